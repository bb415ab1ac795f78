// OpenID Connect interoperability with a certified relying-party library: openid-client v6 (built on
// oauth4webapi and jose) drives Gatehouse over real HTTP on both engines, no mocks. Covered:
// discovery (ID-07), the code flow with PKCE, state and nonce and the ID-token claims openid-client
// validates (ID-03; at_hash with the signing alg's hash, ID-04), UserInfo with openid-client's sub
// check, refresh returning an ID token with the same iss/sub/aud/auth_time and no nonce (ID-05), the
// implicit response types (id_token through openid-client's implicitAuthentication; id_token token,
// which openid-client v6 does not support, checked with jose), every hybrid response type ('code
// id_token' through openid-client's useCodeIdTokenResponseType; 'code token' and 'code id_token
// token' checked with jose, then the code exchanged by openid-client), response_mode=form_post, key
// rotation that never breaks relying parties (ID-08, with the JWKS holding only public keys, ID-01),
// and client_secret_post and a public client (none + PKCE). Catalogue: ../shared/reference/
// security-test-catalogue.md §4.7. at_hash and c_hash are recomputed here, apart from the server code.
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateKeys } from '../src/keys/rotation.js';
import { Browser, formAction, hiddenFields, kindOf } from './support/authorize.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import { request } from './support/http.js';
import { PW } from './support/jwt-login.js';
import { callbackWithQuery, fragmentParams, kidOf, leftHalfHash, relyingParty, signInForFragment, verifyIdToken } from './support/oidc.js';
import { startOne, type TestDatabase, type TestServer } from './support/server.js';

type S = TestServer & { db: TestDatabase };

const CB = 'https://rp.example/cb';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACR = 'urn:gatehouse:acr:password';
/** The user claims of the profile and email scopes (OIDC Core §5.4). */
const USER_CLAIMS = ['name', 'preferred_username', 'updated_at', 'email', 'email_verified'];

interface TestUser {
  id: string;
  username: string;
  email: string;
  displayName: string;
}

describeEachEngine('OpenID Connect relying parties (openid-client v6)', (engine) => {
  let s: S;
  let n = 0;
  const uid = (p: string) => `${p}-${++n}`;

  beforeAll(async () => {
    // The system clock: openid-client checks iat and exp against the real time.
    s = await startOne(engine, { flags: { ...FAST_ARGON2 } });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  async function user(): Promise<TestUser> {
    const username = uid('oidc-user');
    const email = `${username}@example.org`;
    const displayName = `Ada ${username}`;
    const u = await s.g.accounts.create({ username, password: PW, email, emailVerified: true, displayName });
    return { id: u.id, username, email, displayName };
  }

  async function registered(grantTypes: string[], extra: { public?: boolean; requireConsent?: boolean } = {}): Promise<{ id: string; secret: string | undefined }> {
    const id = uid(extra.public ? 'oidc-pub' : 'oidc-conf');
    const { secret } = await s.g.clients.create({ clientId: id, grantTypes, redirectUris: [CB], requireConsent: false, ...extra });
    return { id, secret };
  }

  async function confidential(grantTypes: string[], extra: { requireConsent?: boolean } = {}): Promise<{ id: string; secret: string }> {
    const c = await registered(grantTypes, extra);
    return { id: c.id, secret: c.secret! };
  }

  async function jwks(): Promise<Array<Record<string, unknown>>> {
    const r = await request(`${s.url}/.well-known/jwks.json`);
    expect(r.status).toBe(200);
    return r.json().keys as Array<Record<string, unknown>>;
  }

  /** jose, on its own: signature against the published JWKS, issuer, this client, typ JWT. */
  const verify = (token: string, clientId: string) => verifyIdToken(`${s.url}/.well-known/jwks.json`, token, { issuer: s.url, audience: clientId });

  /** What every ID token for `u` and client `clientId` carries (OIDC Core §2, catalogue ID-03). */
  function expectIdClaims(claims: Record<string, unknown>, u: TestUser, clientId: string, nonce: string | undefined): void {
    expect(claims.iss).toBe(s.url);
    expect(claims.sub).toBe(u.id);
    expect(claims.sub).toMatch(UUID);
    expect(claims.sub).not.toBe(u.username);
    expect(claims.sub).not.toBe(u.email);
    expect(claims.aud === clientId || (Array.isArray(claims.aud) && claims.aud.length === 1 && claims.aud[0] === clientId), `aud ${JSON.stringify(claims.aud)}`).toBe(true);
    expect(claims.azp).toBe(clientId);
    expect(typeof claims.exp).toBe('number');
    expect(typeof claims.iat).toBe('number');
    expect(claims.exp as number).toBeGreaterThan(claims.iat as number);
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.auth_time as number).toBeLessThanOrEqual(claims.iat as number);
    expect(claims.acr).toBe(ACR);
    expect(claims.amr).toEqual(['pwd']);
    expect(typeof claims.sid).toBe('string');
    if (nonce === undefined) expect(claims).not.toHaveProperty('nonce');
    else expect(claims.nonce).toBe(nonce);
  }

  function expectNoUserClaims(claims: Record<string, unknown>): void {
    for (const name of USER_CLAIMS) expect(claims, name).not.toHaveProperty(name);
  }

  /** A fresh set of request values, as a relying party makes for each authorization request. */
  async function requestValues() {
    const verifier = client.randomPKCECodeVerifier();
    return {
      verifier,
      state: client.randomState(),
      nonce: client.randomNonce(),
      pkce: { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' },
    };
  }

  /** openid-client builds the request, the Browser walks the pages, openid-client redeems the code. */
  async function codeFlow(config: client.Configuration, u: TestUser, o: { scope?: string; browser?: Browser; params?: Record<string, string> } = {}) {
    const v = await requestValues();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: CB, scope: o.scope ?? 'openid profile email', state: v.state, nonce: v.nonce, ...v.pkce, ...o.params });
    const b = o.browser ?? new Browser(s.url);
    const { final, pages } = await b.walk(url.href, u.username);
    expect(final.status, final.body.slice(0, 300)).toBe(303);
    const callback = new URL(final.headers.location!);
    expect(`${callback.origin}${callback.pathname}`).toBe(CB);
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: v.verifier, expectedState: v.state, expectedNonce: v.nonce, idTokenExpected: true });
    const claims = tokens.claims();
    expect(claims, 'an ID token').toBeDefined();
    return { tokens, claims: claims as unknown as Record<string, unknown>, nonce: v.nonce, pages, callback, browser: b };
  }

  // -------------------------------------------------------------------------------------------
  it('discovery; code flow with PKCE, state and nonce validated by openid-client; UserInfo with its sub check (ID-03, ID-04, ID-07)', async () => {
    const u = await user();
    const c = await confidential(['authorization_code', 'refresh_token'], { requireConsent: true });
    const config = await relyingParty(s.url, c.id, c.secret, client.ClientSecretBasic(c.secret));

    const m = config.serverMetadata();
    expect(m.issuer).toBe(s.url); // openid-client has also compared it with the URL it discovered
    expect(m.authorization_endpoint).toBe(`${s.url}/oauth/authorize`);
    expect(m.token_endpoint).toBe(`${s.url}/oauth/token`);
    expect(m.userinfo_endpoint).toBe(`${s.url}/oidc/userinfo`);
    expect(m.jwks_uri).toBe(`${s.url}/.well-known/jwks.json`);
    expect(m.end_session_endpoint).toBe(`${s.url}/oidc/logout`);
    expect(m.code_challenge_methods_supported).toEqual(['S256']);
    expect(m.supportsPKCE()).toBe(true);
    expect(m.subject_types_supported).toEqual(['public']);
    expect(m.id_token_signing_alg_values_supported).toContain('ES256');
    expect(m.id_token_signing_alg_values_supported).not.toContain('none');
    expect(m.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    expect(m.response_types_supported).toEqual(expect.arrayContaining(['code', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token']));
    expect(m.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'none']));
    expect(m.claims_supported).toEqual(expect.arrayContaining(['sub', ...USER_CLAIMS]));

    const flow = await codeFlow(config, u);
    expect(flow.pages).toEqual(['login', 'consent', 'redirect']);
    expect(flow.callback.hash).toBe(''); // code: the query
    expect(flow.callback.searchParams.get('iss')).toBe(s.url);
    const { tokens, claims } = flow;
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    expect(tokens.refresh_token).toBeTruthy();

    expectIdClaims(claims, u, c.id, flow.nonce);
    // at_hash with the hash of the signing algorithm; no c_hash from the token endpoint.
    const { header, payload } = await verify(tokens.id_token!, c.id);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    expect((await jwks()).map((k) => k.kid)).toContain(header.kid);
    expect(payload).toEqual(claims);
    expect(claims.at_hash).toBe(leftHalfHash(header.alg, tokens.access_token));
    expect(claims).not.toHaveProperty('c_hash');
    // An access token came with it: the user claims are at UserInfo, not in the ID token.
    expectNoUserClaims(claims);

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub as string);
    expect(info).toEqual({
      sub: u.id,
      name: u.displayName,
      preferred_username: u.username,
      updated_at: expect.any(Number),
      email: u.email,
      email_verified: true,
    });
    // openid-client's sub check is live: another expected subject is refused.
    await expect(client.fetchUserInfo(config, tokens.access_token, randomUUID())).rejects.toMatchObject({ code: 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED', cause: { cause: { attribute: 'sub', body: { sub: u.id } } } });
  });

  it('refresh through openid-client: a new ID token with the same iss, sub, aud, azp and auth_time, and no nonce (ID-05)', async () => {
    const u = await user();
    const c = await confidential(['authorization_code', 'refresh_token']);
    const config = await relyingParty(s.url, c.id, c.secret, client.ClientSecretBasic(c.secret));
    const first = await codeFlow(config, u);
    expect(first.claims.nonce).toBe(first.nonce);

    const refreshed = await client.refreshTokenGrant(config, first.tokens.refresh_token!);
    expect(refreshed.id_token, 'an ID token from the refresh').toBeTruthy();
    expect(refreshed.id_token).not.toBe(first.tokens.id_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first.tokens.refresh_token);
    const claims = refreshed.claims() as unknown as Record<string, unknown>;
    expectIdClaims(claims, u, c.id, undefined);
    for (const name of ['iss', 'sub', 'aud', 'azp', 'auth_time']) expect(claims[name], name).toEqual(first.claims[name]);
    expect(claims).not.toHaveProperty('nonce');

    const { header, payload } = await verify(refreshed.id_token!, c.id);
    expect(payload).toEqual(claims);
    expect(claims.at_hash).toBe(leftHalfHash(header.alg, refreshed.access_token));
    expectNoUserClaims(claims);
    expect((await client.fetchUserInfo(config, refreshed.access_token, u.id)).sub).toBe(u.id);
  });

  describe('implicit flow', () => {
    it('response_type=id_token: openid-client implicitAuthentication validates the fragment; the user claims are in the ID token', async () => {
      const u = await user();
      const c = await confidential(['implicit']);
      const config = await relyingParty(s.url, c.id, undefined, client.None(), [client.useIdTokenResponseType]);
      const v = await requestValues();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: CB, scope: 'openid profile email', state: v.state, nonce: v.nonce });
      expect(url.searchParams.get('response_type')).toBe('id_token');
      const { location, fragment } = await signInForFragment(url, u.username);
      expect([...fragment.keys()].sort()).toEqual(['id_token', 'iss', 'state']);

      const claims = (await client.implicitAuthentication(config, location, v.nonce, { expectedState: v.state })) as unknown as Record<string, unknown>;
      expectIdClaims(claims, u, c.id, v.nonce);
      expect(claims).not.toHaveProperty('at_hash');
      expect(claims).not.toHaveProperty('c_hash');
      // No access token to call UserInfo with: the profile and email claims travel in the ID token (OIDC Core §5.4).
      expect(claims).toMatchObject({ name: u.displayName, preferred_username: u.username, email: u.email, email_verified: true, updated_at: expect.any(Number) });
      // openid-client really compares the nonce and the state.
      await expect(client.implicitAuthentication(config, location, client.randomNonce(), { expectedState: v.state })).rejects.toMatchObject({ code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED', cause: { cause: { claim: 'nonce' } } });
      await expect(client.implicitAuthentication(config, location, v.nonce, { expectedState: client.randomState() })).rejects.toMatchObject({
        code: 'OAUTH_INVALID_RESPONSE',
        cause: { message: expect.stringMatching(/"state"/) },
      });

      const { header, payload } = await verify(fragment.get('id_token')!, c.id);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
      expect(payload).toEqual(claims);
    });

    it('response_type="id_token token" (not supported by openid-client v6): jose validates the ID token, at_hash matches the access token, UserInfo answers', async () => {
      const u = await user();
      const c = await confidential(['implicit']);
      // openid-client v6's implicitAuthentication handles response_type=id_token only; the request is
      // still built and UserInfo still called through it.
      const config = await relyingParty(s.url, c.id, undefined, client.None());
      const v = await requestValues();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: CB, response_type: 'id_token token', scope: 'openid profile email', state: v.state, nonce: v.nonce });
      const { location, fragment: f } = await signInForFragment(url, u.username);
      expect(f.get('state')).toBe(v.state);
      expect(f.get('iss')).toBe(s.url);
      expect(f.get('token_type')?.toLowerCase()).toBe('bearer');
      expect(Number(f.get('expires_in'))).toBeGreaterThan(0);
      expect(f.has('code')).toBe(false);
      expect(f.has('refresh_token')).toBe(false);
      const accessToken = f.get('access_token')!;
      expect(accessToken).toBeTruthy();

      const { header, payload } = await verify(f.get('id_token')!, c.id);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
      expectIdClaims(payload, u, c.id, v.nonce);
      expect(payload.at_hash).toBe(leftHalfHash(header.alg, accessToken));
      expect(payload).not.toHaveProperty('c_hash');
      expectNoUserClaims(payload); // an access token came with it: claims through UserInfo

      const info = await client.fetchUserInfo(config, accessToken, payload.sub!);
      expect(info).toMatchObject({ sub: u.id, name: u.displayName, preferred_username: u.username, email: u.email, email_verified: true });
    });
  });

  describe('hybrid flow', () => {
    /** A new user signs in through a hybrid request of a new client allowed the code and implicit grants. */
    async function hybridSignIn(scope: string, responseType?: string, plugins: Parameters<typeof relyingParty>[4] = []) {
      const u = await user();
      const c = await confidential(['authorization_code', 'implicit']);
      const config = await relyingParty(s.url, c.id, c.secret, client.ClientSecretBasic(c.secret), plugins);
      const v = await requestValues();
      const url = client.buildAuthorizationUrl(config, { redirect_uri: CB, ...(responseType ? { response_type: responseType } : {}), scope, state: v.state, nonce: v.nonce, ...v.pkce });
      const { location, fragment: f } = await signInForFragment(url, u.username);
      return { u, c, config, v, url, location, f };
    }

    it('"code id_token" through openid-client (useCodeIdTokenResponseType): c_hash and nonce in the fragment ID token, then the code exchange', async () => {
      const { u, c, config, v, url, location, f } = await hybridSignIn('openid profile', undefined, [client.useCodeIdTokenResponseType]);
      expect(url.searchParams.get('response_type')).toBe('code id_token');
      expect([...f.keys()].sort()).toEqual(['code', 'id_token', 'iss', 'state']);

      // Independently of openid-client: the front-channel ID token and its c_hash.
      const front = await verify(f.get('id_token')!, c.id);
      expectIdClaims(front.payload, u, c.id, v.nonce);
      expect(front.payload.c_hash).toBe(leftHalfHash(front.header.alg, f.get('code')!));
      expect(front.payload).not.toHaveProperty('at_hash');

      const tokens = await client.authorizationCodeGrant(config, location, { pkceCodeVerifier: v.verifier, expectedState: v.state, expectedNonce: v.nonce });
      const back = tokens.claims() as unknown as Record<string, unknown>;
      expectIdClaims(back, u, c.id, v.nonce);
      expect(back.sub).toBe(front.payload.sub);
      expect(back.auth_time).toBe(front.payload.auth_time);
      expect(back.at_hash).toBe(leftHalfHash(front.header.alg, tokens.access_token));
      expect(back).not.toHaveProperty('c_hash');
      expect((await client.fetchUserInfo(config, tokens.access_token, u.id)).preferred_username).toBe(u.username);
    });

    it('"code token": code and access token in the fragment, no ID token; the code exchanged by openid-client gives an ID token with the nonce', async () => {
      const { u, c, config, v, f } = await hybridSignIn('openid profile', 'code token');
      expect(f.has('id_token')).toBe(false);
      expect(f.get('state')).toBe(v.state);
      expect(f.get('iss')).toBe(s.url);
      expect(f.get('token_type')?.toLowerCase()).toBe('bearer');
      const code = f.get('code')!;
      const frontToken = f.get('access_token')!;
      expect(code).toBeTruthy();
      expect(frontToken).toBeTruthy();
      expect((await client.fetchUserInfo(config, frontToken, u.id)).name).toBe(u.displayName);

      // The relying party's page hands the fragment's code to its back end, which redeems it.
      const tokens = await client.authorizationCodeGrant(config, callbackWithQuery(CB, { code, state: v.state, iss: f.get('iss')! }), {
        pkceCodeVerifier: v.verifier,
        expectedState: v.state,
        expectedNonce: v.nonce,
      });
      const claims = tokens.claims() as unknown as Record<string, unknown>;
      expectIdClaims(claims, u, c.id, v.nonce);
      const { header } = await verify(tokens.id_token!, c.id);
      expect(claims.at_hash).toBe(leftHalfHash(header.alg, tokens.access_token));
      expect(claims).not.toHaveProperty('c_hash');
    });

    it('"code id_token token": jose validates the fragment ID token (nonce, c_hash, at_hash); the token-endpoint ID token has the same sub and nonce', async () => {
      const { u, c, config, v, f } = await hybridSignIn('openid email', 'code id_token token');
      expect(f.get('state')).toBe(v.state);
      expect(f.get('iss')).toBe(s.url);
      const code = f.get('code')!;
      const frontToken = f.get('access_token')!;
      expect(code).toBeTruthy();
      expect(frontToken).toBeTruthy();

      const front = await verify(f.get('id_token')!, c.id);
      expectIdClaims(front.payload, u, c.id, v.nonce);
      expect(front.payload.c_hash).toBe(leftHalfHash(front.header.alg, code));
      expect(front.payload.at_hash).toBe(leftHalfHash(front.header.alg, frontToken));
      expectNoUserClaims(front.payload);
      expect(await client.fetchUserInfo(config, frontToken, u.id)).toEqual({ sub: u.id, email: u.email, email_verified: true });

      const tokens = await client.authorizationCodeGrant(config, callbackWithQuery(CB, { code, state: v.state, iss: f.get('iss')! }), {
        pkceCodeVerifier: v.verifier,
        expectedState: v.state,
        expectedNonce: v.nonce,
      });
      const back = tokens.claims() as unknown as Record<string, unknown>;
      expectIdClaims(back, u, c.id, v.nonce);
      expect(back.sub).toBe(front.payload.sub);
      expect(back.nonce).toBe(front.payload.nonce);
      expect(back.auth_time).toBe(front.payload.auth_time);
      const { header } = await verify(tokens.id_token!, c.id);
      expect(back.at_hash).toBe(leftHalfHash(header.alg, tokens.access_token));
      expect(back).not.toHaveProperty('c_hash');
    });
  });

  it('response_mode=form_post with the code flow: an auto-submitting form whose fields openid-client accepts as a POST callback', async () => {
    const u = await user();
    const c = await confidential(['authorization_code']);
    const config = await relyingParty(s.url, c.id, c.secret, client.ClientSecretBasic(c.secret));
    const v = await requestValues();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: CB, response_mode: 'form_post', scope: 'openid', state: v.state, nonce: v.nonce, ...v.pkce });
    const { final, pages } = await new Browser(s.url).walk(url.href, u.username);
    expect(pages).toEqual(['login', 'form_post']);
    expect(final.status).toBe(200);
    expect(final.headers.location).toBeUndefined();
    expect(final.headers['content-type']).toMatch(/^text\/html/);
    expect(kindOf(final)).toBe('form_post');
    expect(formAction(final.body)).toBe(CB);
    expect(final.body).toMatch(/<script nonce="[^"]+">document\.forms\[0\]\.submit\(\)<\/script>/);
    const fields = hiddenFields(final.body);
    expect(Object.keys(fields).sort()).toEqual(['code', 'iss', 'state']);
    expect(fields.state).toBe(v.state);
    expect(fields.iss).toBe(s.url);

    // What the browser would POST to the redirect URI.
    const callback = new Request(CB, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: v.verifier, expectedState: v.state, expectedNonce: v.nonce });
    const claims = tokens.claims() as unknown as Record<string, unknown>;
    expectIdClaims(claims, u, c.id, v.nonce);
    expect((await client.fetchUserInfo(config, tokens.access_token, u.id)).sub).toBe(u.id);
  });

  it('key rotation never breaks relying parties: old kid stays published, old ID token verifies, new tokens carry the new kid, old access token still serves UserInfo (ID-08, ID-01)', async () => {
    const u = await user();
    const c = await confidential(['authorization_code', 'implicit', 'refresh_token']);
    // One relying party throughout: it fetched (and caches) the JWKS before the rotation.
    const config = await relyingParty(s.url, c.id, c.secret, client.ClientSecretBasic(c.secret));
    const before = await codeFlow(config, u);
    const oldIdToken = before.tokens.id_token!;
    const oldAccess = before.tokens.access_token;
    const oldKid = kidOf(oldIdToken)!;
    expect(oldKid).toBeTruthy();
    const publishedBefore = (await jwks()).map((k) => k.kid);
    expect(publishedBefore).toContain(oldKid);

    // `gatehouse keys rotate --now`
    const r = (await rotateKeys({ store: s.g.store, box: s.g.box, clock: s.g.clock, policy: s.g.keyPolicy }, { immediately: true }))!;
    expect(r.retired).toBe(oldKid);
    expect(r.activated).not.toBe(oldKid);
    // The key that now signs was already published: relying parties that cached the JWKS know it.
    expect(publishedBefore).toContain(r.activated);

    // (a) the JWKS keeps the old kid next to the one that signs now; public parts only, distinct kids (ID-01).
    const after = await jwks();
    const kids = after.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, r.activated]));
    // The fresh next key is published from the moment it is made (src/keys/rotation.ts).
    expect.soft(kids, 'the JWKS right after the rotation publishes the new next key').toContain(r.next);
    expect(new Set(kids).size).toBe(kids.length);
    for (const k of after) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k, `${String(k.kid)}.${secret}`).not.toHaveProperty(secret);
      expect(k.kty).not.toBe('oct');
    }

    // (b) the ID token signed before still verifies, with a freshly fetched key set.
    const old = await verify(oldIdToken, c.id);
    expect(old.header.kid).toBe(oldKid);
    expect(old.payload.sub).toBe(u.id);

    // (c) new logins: the tokens carry the new kid, and openid-client validates them. First an ID
    // token from the authorization endpoint alone (response_type=id_token)...
    const implicitRp = await relyingParty(s.url, c.id, undefined, client.None(), [client.useIdTokenResponseType]);
    const v = await requestValues();
    const implicitUrl = client.buildAuthorizationUrl(implicitRp, { redirect_uri: CB, scope: 'openid', state: v.state, nonce: v.nonce });
    const implicit = await new Browser(s.url).walk(implicitUrl.href, u.username);
    expect(implicit.pages).toEqual(['login', 'redirect']);
    const implicitLocation = new URL(implicit.final.headers.location!);
    const implicitClaims = await client.implicitAuthentication(implicitRp, implicitLocation, v.nonce, { expectedState: v.state });
    expect(implicitClaims.sub).toBe(u.id);
    expect.soft(kidOf(fragmentParams(implicitLocation.href).get('id_token')!), 'kid of the first ID token after the rotation (authorization endpoint)').toBe(r.activated);

    // ...then the code flow, with the same openid-client configuration (its JWKS cached before the
    // rotation), signature included.
    const fresh = await codeFlow(config, u);
    expect(fresh.pages).toEqual(['login', 'redirect']);
    expectIdClaims(fresh.claims, u, c.id, fresh.nonce);
    expect.soft(kidOf(fresh.tokens.access_token), 'kid of the first access token after the rotation (token endpoint)').toBe(r.activated);
    expect.soft(kidOf(fresh.tokens.id_token!), 'kid of the ID token after the rotation (token endpoint)').toBe(r.activated);
    expect((await verify(fresh.tokens.id_token!, c.id)).payload.sub).toBe(u.id);

    // (d) the access token issued before the rotation still serves UserInfo.
    const info = await client.fetchUserInfo(config, oldAccess, u.id);
    expect(info).toMatchObject({ sub: u.id, preferred_username: u.username });

    // And a refresh of the grant made before the rotation gets tokens under the new key.
    const refreshed = await client.refreshTokenGrant(config, before.tokens.refresh_token!);
    expect(kidOf(refreshed.id_token!)).toBe(r.activated);
    expect(kidOf(refreshed.access_token)).toBe(r.activated);
    expect(refreshed.claims()?.sub).toBe(u.id);
    expect(refreshed.claims()?.auth_time).toBe(before.claims.auth_time);
    // By now the server has reloaded its key ring: the JWKS holds old, current and next.
    expect((await jwks()).map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, r.activated, r.next]));
  });

  describe('client authentication', () => {
    it('client_secret_post through openid-client (a wrong secret is refused with invalid_client)', async () => {
      const u = await user();
      const c = await confidential(['authorization_code']);
      const b = new Browser(s.url);

      // A wrong secret, sent the same way: the code exchange fails. Gatehouse answers 401 with a Basic
      // challenge (RFC 6749 §5.2 allows it), which openid-client surfaces as the challenge; the body
      // still says invalid_client.
      const wrong = await relyingParty(s.url, c.id, { client_secret: 'not-the-secret' }, client.ClientSecretPost('not-the-secret'));
      const err = await codeFlow(wrong, u, { browser: b }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(client.WWWAuthenticateChallengeError);
      const challenge = err as client.WWWAuthenticateChallengeError;
      expect(challenge.status).toBe(401);
      expect(((await challenge.response.json()) as { error?: string }).error).toBe('invalid_client');

      const config = await relyingParty(s.url, c.id, { client_secret: c.secret, token_endpoint_auth_method: 'client_secret_post' }, client.ClientSecretPost(c.secret));
      const flow = await codeFlow(config, u, { browser: b });
      expect(flow.pages).toEqual(['redirect']); // signed in by the first attempt
      expectIdClaims(flow.claims, u, c.id, flow.nonce);
      expect((await client.fetchUserInfo(config, flow.tokens.access_token, u.id)).email).toBe(u.email);
    });

    it('a public client: token_endpoint_auth_method none with PKCE; without PKCE the request is refused', async () => {
      const u = await user();
      const c = await registered(['authorization_code'], { public: true });
      expect(c.secret).toBeUndefined();
      const config = await relyingParty(s.url, c.id, { token_endpoint_auth_method: 'none' }, client.None());

      // No code_challenge: PKCE is required of public clients; openid-client reads the error response.
      const state = client.randomState();
      const bare = client.buildAuthorizationUrl(config, { redirect_uri: CB, scope: 'openid', state, nonce: client.randomNonce() });
      const b = new Browser(s.url);
      const refused = await b.walk(bare.href, u.username);
      expect(refused.pages).toEqual(['redirect']);
      const errorCallback = new URL(refused.final.headers.location!);
      expect(errorCallback.searchParams.has('code')).toBe(false);
      await expect(client.authorizationCodeGrant(config, errorCallback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: state })).rejects.toMatchObject({
        error: 'invalid_request',
      });

      const flow = await codeFlow(config, u, { scope: 'openid', browser: b });
      expect(flow.pages).toEqual(['login', 'redirect']);
      expectIdClaims(flow.claims, u, c.id, flow.nonce);
      expect(flow.tokens.refresh_token).toBeUndefined(); // no refresh_token grant
      // scope openid alone releases only sub.
      expect(await client.fetchUserInfo(config, flow.tokens.access_token, u.id)).toEqual({ sub: u.id });
    });
  });
});
