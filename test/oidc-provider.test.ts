// OpenID Connect provider: negative and edge cases modelled on the OpenID Foundation conformance
// suite's OP plans (Basic, Implicit, Hybrid) and its RP-initiated / back-channel logout plans
// (catalogue §3.1), run on both engines over real HTTP against a real server; no mocks. ID tokens and
// logout tokens are checked independently with jose against the published JWKS, and at_hash / c_hash
// are recomputed here from OIDC Core §3.1.3.6 / §3.3.2.11 (test/support/oidc-negative.ts).
//
// Covered (conformance module / catalogue id):
//   discovery & keys   oidcc-server / ID-07 (issuer = URL fetched from, S256 only, no `none`, the 7
//                      response types, endpoints under the issuer, userinfo + end_session endpoints,
//                      agreement with RFC 8414 metadata); ID-01 (JWKS: public keys only, distinct kids)
//   authorization      oidcc-response-type-missing (AZ-13); OIDCCEnsureRequestWithoutNonceFails for
//                      id_token, id_token token, code id_token, code id_token token, code token (AZ-21);
//                      oidcc-ensure-request-without-nonce-succeeds-for-code-flow (AZ-21); id_token
//                      without openid → invalid_scope; tokens never in the query;
//                      oidcc-ensure-registered-redirect-uri / OIDCCEnsureRedirectUriInAuthorizationRequest
//                      (AZ-01, AZ-02); oidcc-prompt-none-not-logged-in, consent_required (AZ-22);
//                      oidcc-prompt-none-logged-in; oidcc-prompt-login; oidcc-max-age-1 (AZ-23);
//                      oidcc-max-age-10000; malformed max_age; empty parameters = omitted (RFC 6749 §3.1);
//                      oidcc-id-token-hint (own user, expired hint, another user, another client, modified,
//                      a sign-in as someone else than the hint names); oidcc-login-hint;
//                      ui_locales / claims_locales / acr_values / display=page / display=popup / unknown
//                      parameter (AZ-19); oidcc-ensure-other-scope-order-succeeds (AZ-31)
//   tokens             oidcc-codereuse and -30seconds (TK-01): 400 invalid_grant, the first access token
//                      dead at UserInfo, the refresh token dead
//   ID token           ID-03 claims (iss byte-for-byte, aud, azp, exp > iat, iat, auth_time, nonce, acr,
//                      amr, sid, sub = random user id, typ, alg, kid); ID-04 at_hash / c_hash for
//                      id_token token, code id_token, code id_token token and the token endpoint;
//                      claims in the ID token only for response_type=id_token (OIDC Core §5.4)
//   scopes & UserInfo  oidcc-scope-profile / -email / -all and openid alone; email_verified true/false;
//                      oidcc-userinfo-get / -post-header / -post-body; header + body → 400; token in the
//                      query → 400; no token → bare challenge (RS-01); ID-09: revoked token (code flow and
//                      implicit), opaque tokens, token without openid → 403 insufficient_scope, ID token
//                      as bearer, client_credentials token, disabled user → 401 invalid_token
//   logout             ID-06 / oidcc-rp-initiated-logout-bad-id-token-hint, -modified-id-token-hint,
//                      -bad-logout-redirect-uri, -query-added-to-logout-redirect-uri, -no-params,
//                      -no-state, -no-id-token-hint, expired hint accepted, a link cannot log out;
//                      the positive logout with state; back-channel logout tokens (typ logout+jwt, iss,
//                      aud, iat, exp, jti, sub, sid = the ID token's, events, no nonce) for RP logout and
//                      POST /session/logout, only to the session's openid clients; a session replaced by
//                      a re-login still tells its clients; cross-site POST → 403 (SS-08); a cross-site POST
//                      without the SameSite=Lax cookie does not clear it (SS-08); wrong CSRF token → 403;
//                      `stay` keeps the session.
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { NewClient } from '../src/oauth/clients.js';
import { authorizeUrl, Browser, formAction, hiddenFields, kindOf, redirectParams, setCookies } from './support/authorize.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import { flipBit } from './support/forge.js';
import { request, type RawResponse } from './support/http.js';
import { PW } from './support/jwt-login.js';
import { clientBasic, INSECURE, newVerifier, post, s256 } from './support/oauth.js';
import { algOf, BackchannelReceiver, fetchJwks, leftHalfHash, payloadOf, verifyServerJwt, type Received } from './support/oidc-negative.js';
import { startOne, type TestDatabase, type TestServer } from './support/server.js';

type S = TestServer & { db: TestDatabase };

const CB = 'https://client.example/cb';
const PLR = 'https://client.example/signed-out';
const SESSION = 'gatehouse_session';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const ALL_RESPONSE_TYPES = ['code', 'code id_token', 'code id_token token', 'code token', 'id_token', 'id_token token', 'token'];

type Kind = 'code' | 'implicit' | 'hybrid' | 'code-only';
const GRANTS: Record<Kind, string[]> = {
  code: ['authorization_code', 'refresh_token'],
  'code-only': ['authorization_code'],
  implicit: ['implicit'],
  hybrid: ['authorization_code', 'implicit', 'refresh_token'],
};

interface TestClient {
  id: string;
  secret: string | undefined;
  basic: string | undefined;
}
interface TestUser {
  id: string;
  username: string;
  email?: string;
  displayName?: string;
}
interface TokenJson {
  access_token: string;
  token_type: string;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
}

describeEachEngine('OpenID Connect provider (conformance-style negatives)', (engine) => {
  let s: S;
  const clock = new ManualClock();
  const bc = new BackchannelReceiver();
  let n = 0;
  const uid = (p: string) => `${p}-${++n}`;
  const iss = () => s.settings.issuer;
  const url = (p: Record<string, string> | string[][]) => authorizeUrl(s.url, p);

  beforeAll(async () => {
    await bc.start();
    s = await startOne(engine, { clock, flags: { ...FAST_ARGON2, scopes: 'api' } });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await bc.close();
  });

  // ---------------------------------------------------------------------------------------------
  // helpers

  async function user(extra: { email?: string; emailVerified?: boolean; displayName?: string } = {}): Promise<TestUser> {
    const username = uid('user');
    const u = await s.g.accounts.create({ username, password: PW, ...extra });
    return { id: u.id, username, ...(extra.email ? { email: extra.email } : {}), ...(extra.displayName ? { displayName: extra.displayName } : {}) };
  }

  async function client(kind: Kind = 'code', extra: Partial<NewClient> & { backchannel?: boolean } = {}): Promise<TestClient> {
    const id = uid(kind);
    const { backchannel, ...rest } = extra;
    const { secret } = await s.g.clients.create({
      clientId: id, grantTypes: GRANTS[kind], redirectUris: [CB], postLogoutRedirectUris: [PLR], requireConsent: false,
      ...(backchannel ? { backchannelLogoutUri: bc.uri(id) } : {}),
      ...rest,
    });
    return { id, secret, basic: secret ? clientBasic(id, secret) : undefined };
  }

  /** An authorization request; PKCE for response types with a code; `undefined` in extra removes. */
  function authParams(clientId: string, responseType: string, extra: Record<string, string | undefined> = {}, verifier = newVerifier()): Record<string, string> {
    const all: Record<string, string | undefined> = {
      client_id: clientId, redirect_uri: CB, response_type: responseType, scope: 'openid', state: uid('st'), nonce: uid('nonce'),
      ...(responseType.split(' ').includes('code') ? { code_challenge: s256(verifier), code_challenge_method: 'S256' } : {}),
      ...extra,
    };
    return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as Record<string, string>;
  }

  function redeem(c: TestClient, code: string, verifier: string): Promise<RawResponse> {
    const fields: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier, ...(c.basic ? {} : { client_id: c.id }) };
    return post(`${s.url}/oauth/token`, fields, c.basic ? { authorization: c.basic } : {});
  }

  /** Walk the pages to a code (query response). */
  async function authorizeCode(b: Browser, c: TestClient, username: string, extra: Record<string, string | undefined> = {}) {
    const verifier = newVerifier();
    const params = authParams(c.id, 'code', extra, verifier);
    const { final, pages } = await b.walk(url(params), username);
    expect(final.status, `${pages.join(',')}: ${final.body.slice(0, 300)}`).toBe(303);
    const rp = redirectParams(final.headers.location!);
    expect(rp.get('code'), final.headers.location).toBeTruthy();
    expect(rp.get('state')).toBe(params.state);
    return { code: rp.get('code')!, verifier, params, pages };
  }

  /** A whole code flow: pages, then the token endpoint. */
  async function codeLogin(b: Browser, c: TestClient, username: string, extra: Record<string, string | undefined> = {}) {
    const a = await authorizeCode(b, c, username, extra);
    const r = await redeem(c, a.code, a.verifier);
    expect(r.status, r.body).toBe(200);
    const tokens = r.json() as TokenJson;
    return { ...a, tokens, idToken: tokens.id_token, claims: tokens.id_token ? payloadOf(tokens.id_token) : {} };
  }

  /** A front-channel (implicit / hybrid) response through the pages: the fragment's parameters. */
  async function frontChannel(b: Browser, c: TestClient, responseType: string, username: string, extra: Record<string, string | undefined> = {}) {
    const verifier = newVerifier();
    const params = authParams(c.id, responseType, extra, verifier);
    const { final, pages } = await b.walk(url(params), username);
    expect(final.status, `${pages.join(',')}: ${final.body.slice(0, 300)}`).toBe(303);
    const loc = new URL(final.headers.location!);
    expect(loc.search, 'nothing in the query').toBe('');
    const frag = redirectParams(final.headers.location!, 'fragment');
    expect(frag.get('error'), final.headers.location).toBeNull();
    expect(frag.get('state')).toBe(params.state);
    expect(frag.get('iss')).toBe(iss());
    return { frag, params, verifier, pages };
  }

  /** A browser signed in as `username` (through a code client of its own), and that first login. */
  async function signedIn(username: string) {
    const b = new Browser(s.url);
    const c = await client('code');
    const first = await codeLogin(b, c, username);
    expect(b.cookies.has(SESSION)).toBe(true);
    return { b, first, c };
  }

  function verifyIdToken(token: string, clientId: string) {
    return verifyServerJwt(s.url, token, { issuer: iss(), audience: clientId, typ: 'JWT', now: clock.now() });
  }

  /** 303 to CB with error, state, iss and nothing issued (no page either). */
  function expectErrorRedirect(r: RawResponse, error: string, state: string | undefined, where: 'query' | 'fragment' = 'query'): URLSearchParams {
    expect(r.status, r.body.slice(0, 300)).toBe(303);
    const loc = r.headers.location!;
    expect(loc.startsWith(CB), loc).toBe(true);
    if (where === 'fragment') expect(new URL(loc).search, 'an error for a token response goes in the fragment').toBe('');
    const p = redirectParams(loc, where);
    expect(p.get('error'), loc).toBe(error);
    if (state === undefined) expect(p.has('state')).toBe(false);
    else expect(p.get('state')).toBe(state);
    expect(p.get('iss')).toBe(iss());
    for (const issued of ['code', 'access_token', 'id_token']) {
      expect(p.has(issued), `${issued} in ${loc}`).toBe(false);
      expect(redirectParams(loc, where === 'query' ? 'fragment' : 'query').has(issued)).toBe(false);
    }
    expect(r.body).toBe('');
    return p;
  }

  /** A 400 HTML error page and never a redirect (AZ-01, AZ-02, ID-06). */
  function expectErrorPage(r: RawResponse, label: string): void {
    expect(r.status, `${label}: ${r.body.slice(0, 300)}`).toBe(400);
    expect(r.headers.location, label).toBeUndefined();
    expect(r.headers['content-type'], label).toMatch(/^text\/html/);
    expect(r.body, label).toContain('This sign-in request cannot continue');
    expect(r.body, label).not.toMatch(/name="(code|access_token|id_token)"/);
  }

  function userinfo(token: string, how: 'get' | 'post-header' | 'post-body' = 'get'): Promise<RawResponse> {
    const u = `${s.url}/oidc/userinfo`;
    if (how === 'get') return request(u, { headers: { authorization: `Bearer ${token}` } });
    if (how === 'post-header') return request(u, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    return post(u, { access_token: token });
  }

  /** RFC 6750 §3: one Bearer challenge naming the error, JSON body with the same error. */
  function expectBearerError(r: RawResponse, status: number, error: string): void {
    expect(r.status, r.body).toBe(status);
    const challenges = r.all('www-authenticate');
    expect(challenges, r.body).toHaveLength(1);
    expect(challenges[0]).toMatch(/^Bearer realm="[^"]*"/);
    expect(challenges[0]).toContain(`error="${error}"`);
    expect(r.json().error).toBe(error);
    expect(r.body).not.toMatch(/"sub"/);
  }

  const logoutUrl = (p: Record<string, string> = {}) => `${s.url}/oidc/logout${Object.keys(p).length ? `?${new URLSearchParams(p).toString()}` : ''}`;

  async function sessionAlive(b: Browser): Promise<boolean> {
    const cookie = b.cookieHeader();
    const r = await request(`${s.url}/api/session/resources`, { headers: cookie ? { cookie } : {} });
    return r.status === 200;
  }

  function isLogoutConfirmation(r: RawResponse): boolean {
    return r.status === 200 && formAction(r.body) === '/oidc/logout' && /name="gatehouse_action" value="logout"/.test(r.body) && /name="gatehouse_action" value="stay"/.test(r.body);
  }

  /** A signed-in user whose session holds an ID token of `c` (a client with a back-channel URI). */
  async function rpSession(extra: Partial<NewClient> = {}) {
    const u = await user();
    const c = await client('code', { backchannel: true, ...extra });
    const b = new Browser(s.url);
    const got = await codeLogin(b, c, u.username);
    expect(got.idToken).toBeTruthy();
    return { u, c, b, idToken: got.idToken!, sid: String(got.claims.sid) };
  }

  /** Back-Channel Logout 1.0 §2.4, §2.5: one form POST with a logout_token alone, verified here. */
  async function expectLogoutToken(rec: Received, clientId: string, userId: string, sid: string): Promise<void> {
    expect(rec.method).toBe('POST');
    expect(rec.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect([...rec.form.keys()]).toEqual(['logout_token']);
    const token = rec.form.get('logout_token')!;
    const { payload, header } = await verifyServerJwt(s.url, token, { issuer: iss(), audience: clientId, typ: 'logout+jwt', now: clock.now() });
    expect(header.typ).toBe('logout+jwt');
    expect(payload.iss).toBe(iss());
    expect(payload.aud === clientId || (Array.isArray(payload.aud) && payload.aud.length === 1 && payload.aud[0] === clientId)).toBe(true);
    expect(payload.sub).toBe(userId);
    expect(payload.sid).toBe(sid);
    expect(typeof payload.iat).toBe('number');
    expect(payload.exp! > payload.iat!).toBe(true);
    expect(typeof payload.jti === 'string' && payload.jti.length > 0).toBe(true);
    expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(payload).not.toHaveProperty('nonce');
  }

  // ---------------------------------------------------------------------------------------------
  // discovery and keys

  it('ID-07 oidcc-server discovery: issuer is the URL fetched from; S256 only; no none; 7 response types; endpoints under the issuer; agrees with RFC 8414 metadata', async () => {
    const r = await request(`${s.url}/.well-known/openid-configuration`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const d = r.json() as Record<string, unknown>;
    expect(d.issuer).toBe(s.url); // byte for byte the URL the document was fetched from
    // an independent client's view (oauth4webapi checks the issuer against the one it asked)
    const issuerUrl = new URL(s.url);
    const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { algorithm: 'oidc', ...INSECURE }));
    expect(as.issuer).toBe(s.url);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    const algs = d.id_token_signing_alg_values_supported as string[];
    expect(algs.map((a) => a.toLowerCase())).not.toContain('none');
    expect(algs).toContain('RS256'); // OIDC Discovery §3: RS256 MUST be listed
    expect(algs).toContain('ES256');
    expect([...(d.response_types_supported as string[])].sort()).toEqual(ALL_RESPONSE_TYPES);
    expect(d.userinfo_endpoint).toBe(`${s.url}/oidc/userinfo`);
    expect(d.end_session_endpoint).toBe(`${s.url}/oidc/logout`);
    for (const k of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint', 'revocation_endpoint', 'introspection_endpoint']) {
      expect(typeof d[k], k).toBe('string');
      expect((d[k] as string).startsWith(`${s.url}/`), `${k}: ${String(d[k])}`).toBe(true);
    }
    expect(d.subject_types_supported).toContain('public');
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
    expect(d.claims_supported).toEqual(expect.arrayContaining(['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'sid']));
    expect(d.backchannel_logout_supported).toBe(true);
    expect(d.backchannel_logout_session_supported).toBe(true);
    // every member both documents have agrees
    const m = (await request(`${s.url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>;
    for (const [k, v] of Object.entries(m)) expect(d[k], k).toEqual(v);
    // and the endpoints answer where they say
    expect((await request(String(d.jwks_uri))).status).toBe(200);
    expect((await request(String(d.userinfo_endpoint))).status).toBe(401);
  });

  it('ID-01 JWKS: public keys only (no d/p/q/dp/dq/qi/k, no oct), distinct kids, the ID token kid is published', async () => {
    const jwks = await fetchJwks(s.url);
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) {
      expect(k.kty).not.toBe('oct');
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(k, `${k.kid} has ${priv}`).not.toHaveProperty(priv);
      expect(typeof k.kid).toBe('string');
      if (k.use !== undefined) expect(k.use).toBe('sig');
    }
    expect(new Set(jwks.keys.map((k) => k.kid)).size).toBe(jwks.keys.length);
    const { first } = await signedIn((await user()).username);
    const header = JSON.parse(Buffer.from(first.idToken!.split('.')[0]!, 'base64url').toString()) as { kid: string; alg: string };
    const published = jwks.keys.find((k) => k.kid === header.kid);
    expect(published, header.kid).toBeTruthy();
    if (published!.alg !== undefined) expect(published!.alg).toBe(header.alg);
  });

  // ---------------------------------------------------------------------------------------------
  // the authorization request

  it('oidcc-response-type-missing (AZ-13): no response_type → 303 invalid_request with state and iss; nothing issued even to a signed-in user', async () => {
    const c = await client('hybrid');
    const p = authParams(c.id, 'code', { response_type: undefined });
    expectErrorRedirect(await new Browser(s.url).get(url(p)), 'invalid_request', p.state);
    const { b } = await signedIn((await user()).username);
    const p2 = authParams(c.id, 'code', { response_type: undefined });
    expectErrorRedirect(await b.get(url(p2)), 'invalid_request', p2.state);
    const p3 = authParams(c.id, 'code', { response_type: '' });
    expectErrorRedirect(await b.get(url(p3)), 'invalid_request', p3.state);
  });

  const NONCE_REQUIRED: Array<[string, Kind]> = [
    ['id_token', 'implicit'],
    ['id_token token', 'implicit'],
    ['code id_token', 'hybrid'],
    ['code id_token token', 'hybrid'],
    ['code token', 'hybrid'],
  ];
  for (const [responseType, kind] of NONCE_REQUIRED) {
    it(`OIDCCEnsureRequestWithoutNonceFails (AZ-21): response_type=${responseType} with openid and no nonce → invalid_request in the fragment, nothing issued`, async () => {
      const { b } = await signedIn((await user()).username);
      const c = await client(kind);
      const p = authParams(c.id, responseType, { nonce: undefined });
      expectErrorRedirect(await b.get(url(p)), 'invalid_request', p.state, 'fragment');
      const empty = authParams(c.id, responseType, { nonce: '' });
      expectErrorRedirect(await b.get(url(empty)), 'invalid_request', empty.state, 'fragment');
      // control: the same request with a nonce succeeds
      const ok = await b.get(url(authParams(c.id, responseType)));
      expect(ok.status).toBe(303);
      expect(redirectParams(ok.headers.location!, 'fragment').get('error')).toBeNull();
    });
  }

  it('oidcc-ensure-request-without-nonce-succeeds-for-code-flow (AZ-21): code + openid without nonce → code, ID token without nonce', async () => {
    const u = await user();
    const c = await client('code');
    const got = await codeLogin(new Browser(s.url), c, u.username, { nonce: undefined });
    expect(got.idToken).toBeTruthy();
    const { payload } = await verifyIdToken(got.idToken!, c.id);
    expect(payload).not.toHaveProperty('nonce');
    expect(payload.sub).toBe(u.id);
  });

  it('an ID token needs scope openid: id_token / id_token token / code id_token without openid → invalid_scope', async () => {
    const { b } = await signedIn((await user()).username);
    const imp = await client('implicit');
    const hyb = await client('hybrid');
    for (const [c, rt, scope] of [[imp, 'id_token', 'profile'], [imp, 'id_token token', 'api'], [hyb, 'code id_token', 'email'], [imp, 'id_token', 'openidx']] as const) {
      const p = authParams(c.id, rt, { scope });
      expectErrorRedirect(await b.get(url(p)), 'invalid_scope', p.state, 'fragment');
    }
  });

  it('tokens are never sent in the query: response_mode=query with id_token / code id_token → invalid_request in the fragment', async () => {
    const { b } = await signedIn((await user()).username);
    const imp = await client('implicit');
    const hyb = await client('hybrid');
    for (const [c, rt] of [[imp, 'id_token'], [imp, 'id_token token'], [hyb, 'code id_token']] as const) {
      const p = authParams(c.id, rt, { response_mode: 'query' });
      const r = await b.get(url(p));
      expectErrorRedirect(r, 'invalid_request', p.state, 'fragment');
    }
  });

  it('response_type not allowed for the client → unauthorized_client; unknown → unsupported_response_type', async () => {
    const { b } = await signedIn((await user()).username);
    const code = await client('code');
    const imp = await client('implicit');
    const p1 = authParams(code.id, 'id_token');
    expectErrorRedirect(await b.get(url(p1)), 'unauthorized_client', p1.state, 'fragment');
    const p2 = authParams(imp.id, 'code id_token');
    expectErrorRedirect(await b.get(url(p2)), 'unauthorized_client', p2.state, 'fragment');
    const p3 = authParams(code.id, 'code id_token_x');
    expectErrorRedirect(await b.get(url(p3)), 'unsupported_response_type', p3.state);
  });

  it('oidcc-ensure-registered-redirect-uri / OIDCCEnsureRedirectUriInAuthorizationRequest (AZ-01, AZ-02): mismatch or missing → error page, no redirect, even signed in with prompt=none', async () => {
    const { b } = await signedIn((await user()).username);
    const c = await client('hybrid');
    for (const rt of ['code', 'id_token', 'code id_token']) {
      for (const bad of ['https://client.example/cb/other', 'https://evil.example/cb', `${CB}?x=1`, 'https://client.example/CB', undefined]) {
        const p = authParams(c.id, rt, { redirect_uri: bad, prompt: 'none' });
        expectErrorPage(await b.get(url(p)), `${rt} → ${bad}`);
      }
    }
  });

  it('oidcc-prompt-none-not-logged-in (AZ-22): no session → login_required by redirect, no login page, for code and implicit', async () => {
    const c = await client('hybrid');
    const p = authParams(c.id, 'code', { prompt: 'none' });
    const r = await new Browser(s.url).get(url(p));
    expectErrorRedirect(r, 'login_required', p.state);
    expect(kindOf(r)).toBe('redirect');
    expect(setCookies(r).some((x) => x.name === SESSION && x.value !== '')).toBe(false);
    const p2 = authParams(c.id, 'id_token token', { prompt: 'none' });
    expectErrorRedirect(await new Browser(s.url).get(url(p2)), 'login_required', p2.state, 'fragment');
  });

  it('prompt=none with a session but no consent (AZ-22) → consent_required, and no consent is stored', async () => {
    const u = await user();
    const { b } = await signedIn(u.username);
    const c = await client('code', { requireConsent: true });
    const p = authParams(c.id, 'code', { prompt: 'none' });
    const r = await b.get(url(p));
    expectErrorRedirect(r, 'consent_required', p.state);
    expect(await s.g.store.consents.find(u.id, c.id)).toBeFalsy();
  });

  it('oidcc-prompt-none-logged-in: signed in and consented → code without any page; auth_time unchanged, iat newer, same sid', async () => {
    const u = await user();
    const c = await client('code', { requireConsent: true });
    const b = new Browser(s.url);
    const first = await codeLogin(b, c, u.username);
    expect(first.pages).toEqual(['login', 'consent', 'redirect']);
    clock.advance(5_000);
    const again = await codeLogin(b, c, u.username, { prompt: 'none' });
    expect(again.pages).toEqual(['redirect']);
    expect(again.claims.auth_time).toBe(first.claims.auth_time);
    expect(again.claims.iat as number).toBeGreaterThanOrEqual((first.claims.iat as number) + 5);
    expect(again.claims.sid).toBe(first.claims.sid);
    expect(again.claims.sub).toBe(u.id);
  });

  it('oidcc-prompt-login: a signed-in user gets the login page again; after signing in auth_time is newer (new session, new sid)', async () => {
    const u = await user();
    const { b, first, c } = await signedIn(u.username);
    clock.advance(2_000);
    const p = authParams(c.id, 'code', { prompt: 'login' });
    const page = await b.get(url(p));
    expect(page.status).toBe(200);
    expect(kindOf(page)).toBe('login');
    expect(page.headers.location).toBeUndefined();
    const again = await codeLogin(b, c, u.username, { prompt: 'login' });
    expect(again.pages).toEqual(['login', 'redirect']);
    expect(again.claims.auth_time as number).toBeGreaterThanOrEqual((first.claims.auth_time as number) + 2);
    expect(again.claims.sid).not.toBe(first.claims.sid);
  });

  it('oidcc-max-age-1 (AZ-23): 2 s after login, max_age=1 → login page (prompt=none → login_required); after signing in a new auth_time', async () => {
    const u = await user();
    const { b, first, c } = await signedIn(u.username);
    expect(typeof first.claims.auth_time).toBe('number');
    clock.advance(2_000);
    const none = authParams(c.id, 'code', { max_age: '1', prompt: 'none' });
    expectErrorRedirect(await b.get(url(none)), 'login_required', none.state);
    const page = await b.get(url(authParams(c.id, 'code', { max_age: '1' })));
    expect(kindOf(page)).toBe('login');
    const again = await codeLogin(b, c, u.username, { max_age: '1' });
    expect(again.pages).toEqual(['login', 'redirect']);
    expect(again.claims.auth_time as number).toBeGreaterThanOrEqual((first.claims.auth_time as number) + 2);
    expect(again.claims.auth_time as number).toBeLessThanOrEqual(again.claims.iat as number);
  });

  it('oidcc-max-age-10000: 2 s after login, max_age=10000 → no login page, auth_time present and unchanged', async () => {
    const u = await user();
    const { b, first, c } = await signedIn(u.username);
    clock.advance(2_000);
    const again = await codeLogin(b, c, u.username, { max_age: '10000' });
    expect(again.pages).toEqual(['redirect']);
    expect(again.claims.auth_time).toBe(first.claims.auth_time);
    expect(typeof again.claims.auth_time).toBe('number');
  });

  it('max_age that is not a whole number of seconds (-1, abc, 1.5, 0x10, +5) → invalid_request, nothing issued', async () => {
    const { b, c } = await signedIn((await user()).username);
    for (const bad of ['-1', 'abc', '1.5', '0x10', '+5', '1 ']) {
      const p = authParams(c.id, 'code', { max_age: bad });
      expectErrorRedirect(await b.get(url(p)), 'invalid_request', p.state);
    }
  });

  for (const name of ['max_age', 'id_token_hint', 'login_hint', 'prompt', 'response_mode', 'nonce']) {
    it(`RFC 6749 §3.1: ${name} sent without a value is treated as omitted → code for the signed-in user`, async () => {
      const { b, c } = await signedIn((await user()).username);
      clock.advance(2_000); // so that an empty max_age read as 0 would ask for a new login
      const p = authParams(c.id, 'code', { [name]: '' });
      const r = await b.get(url(p));
      expect(r.status, `${name}= → ${r.headers.location ?? r.body.slice(0, 200)}`).toBe(303);
      const rp = redirectParams(r.headers.location!);
      expect(rp.get('error'), `${name}=: ${r.headers.location}`).toBeNull();
      expect(rp.get('code'), name).toBeTruthy();
    });
  }

  it('oidcc-id-token-hint: a hint for the signed-in user → success (also with prompt=none), same sub', async () => {
    const u = await user();
    const { b, first, c } = await signedIn(u.username);
    const again = await codeLogin(b, c, u.username, { id_token_hint: first.idToken!, prompt: 'none' });
    expect(again.pages).toEqual(['redirect']);
    expect(again.claims.sub).toBe(u.id);
    const plain = await codeLogin(b, c, u.username, { id_token_hint: first.idToken! });
    expect(plain.pages).toEqual(['redirect']);
  });

  it('oidcc-id-token-hint: an expired hint of ours is still accepted (OIDC Core §3.1.2.1)', async () => {
    const u = await user();
    const { b, first, c } = await signedIn(u.username);
    const exp = first.claims.exp as number;
    clock.advance((exp + 60) * 1000 - clock.now()); // past exp, well inside the 30-minute idle timeout
    const again = await codeLogin(b, c, u.username, { id_token_hint: first.idToken!, prompt: 'none' });
    expect(again.pages).toEqual(['redirect']);
    expect(again.claims.sub).toBe(u.id);
  });

  it('oidcc-id-token-hint: a hint for another user → prompt=none login_required; otherwise the login page, and signing in as that user succeeds', async () => {
    const alice = await user();
    const bob = await user();
    const { first: bobLogin, c } = await signedIn(bob.username);
    const { b } = await signedIn(alice.username);
    const none = authParams(c.id, 'code', { id_token_hint: bobLogin.idToken!, prompt: 'none' });
    expectErrorRedirect(await b.get(url(none)), 'login_required', none.state);
    const page = await b.get(url(authParams(c.id, 'code', { id_token_hint: bobLogin.idToken! })));
    expect(kindOf(page)).toBe('login');
    const asBob = await codeLogin(b, c, bob.username, { id_token_hint: bobLogin.idToken! });
    expect(asBob.pages).toEqual(['login', 'redirect']);
    expect(asBob.claims.sub).toBe(bob.id);
  });

  it('oidcc-id-token-hint: signing in as someone other than the user the hint names gives no code for them (OIDC Core §3.1.2.1: SHOULD return an error)', async () => {
    const bob = await user();
    const carol = await user();
    const { first: bobLogin, c } = await signedIn(bob.username);
    const b = new Browser(s.url);
    const p = authParams(c.id, 'code', { id_token_hint: bobLogin.idToken! });
    const page = await b.get(url(p));
    expect(kindOf(page)).toBe('login');
    const r = await b.login(page, carol.username);
    const code = r.status === 303 ? redirectParams(r.headers.location!).get('code') : null;
    expect(code, `a code for ${carol.username} although id_token_hint names ${bob.username}: ${r.headers.location}`).toBeNull();
  });

  it('oidcc-id-token-hint: a modified, foreign-client, unsigned or non-ID-token hint → invalid_request, nothing issued to the signed-in user', async () => {
    const u = await user();
    const { b, first, c } = await signedIn(u.username);
    const other = await client('code');
    const otherLogin = await codeLogin(new Browser(s.url), other, u.username);
    const hint = first.idToken!;
    const [h, pl] = hint.split('.') as [string, string, string];
    const claims = payloadOf(hint);
    const bad: Array<[string, string]> = [
      ['signature bit flipped', flipBit(hint, 2, 7)],
      ['payload changed (sub), old signature', `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${hint.split('.')[2]}`],
      ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${pl}.`],
      ['issued to another client', otherLogin.idToken!],
      ['an access token', first.tokens.access_token],
      ['garbage', 'not-a-token'],
    ];
    for (const [label, value] of bad) {
      const p = authParams(c.id, 'code', { id_token_hint: value });
      const r = await b.get(url(p));
      expect(r.status, label).toBe(303);
      expectErrorRedirect(r, 'invalid_request', p.state);
    }
  });

  it('oidcc-login-hint: login_hint pre-fills the username field (escaped) and the login still works', async () => {
    const u = await user();
    const c = await client('code');
    const b = new Browser(s.url);
    const page = await b.get(url(authParams(c.id, 'code', { login_hint: u.username })));
    expect(kindOf(page)).toBe('login');
    expect(page.body).toMatch(new RegExp(`<input type="text" id="username" name="username"[^>]* value="${u.username}"`));
    const evil = await new Browser(s.url).get(url(authParams(c.id, 'code', { login_hint: '"><script>alert(1)</script>' })));
    expect(evil.body).not.toContain('<script>alert(1)');
    expect(evil.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    const done = await b.login(page, u.username);
    expect(done.status).toBe(303);
    expect(redirectParams(done.headers.location!).get('code')).toBeTruthy();
  });

  const IGNORED: Array<[string, Record<string, string>]> = [
    ['oidcc-ensure-request-with-ui-locales-succeeds', { ui_locales: 'se' }],
    ['oidcc-ensure-request-with-claims-locales-succeeds', { claims_locales: 'se' }],
    ['oidcc-ensure-request-with-acr-values-succeeds', { acr_values: '1 2' }],
    ['oidcc-display-page', { display: 'page' }],
    ['oidcc-display-popup', { display: 'popup' }],
    ['oidcc-ensure-request-with-unknown-parameter-succeeds (AZ-19)', { extra: 'foobar', 'weird param': 'ä' }],
  ];
  for (const [module, extra] of IGNORED) {
    it(`${module}: ignored, the code flow completes`, async () => {
      const u = await user();
      const c = await client('code');
      const got = await codeLogin(new Browser(s.url), c, u.username, extra);
      expect(got.pages).toEqual(['login', 'redirect']);
      expect(got.claims.sub).toBe(u.id);
      expect(got.claims.nonce).toBe(got.params.nonce);
    });
  }

  it('oidcc-ensure-other-scope-order-succeeds (AZ-31): "email openid profile" works like "openid profile email"', async () => {
    const u = await user({ email: `${uid('m')}@example.com`, emailVerified: true, displayName: 'Order Test' });
    const c = await client('code');
    const b = new Browser(s.url);
    const got = await codeLogin(b, c, u.username, { scope: 'email openid profile' });
    expect(got.idToken).toBeTruthy();
    expect(got.tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    const ui = (await userinfo(got.tokens.access_token)).json();
    expect(ui).toMatchObject({ sub: u.id, email: u.email, name: 'Order Test' });
    const got2 = await codeLogin(b, c, u.username, { scope: 'profile email openid' });
    expect(got2.tokens.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
  });

  // ---------------------------------------------------------------------------------------------
  // code reuse

  /** A code of a new client of `kind` redeemed once (its access token works at UserInfo), then again. */
  async function redeemTwice(kind: Kind) {
    const u = await user();
    const c = await client(kind);
    const a = await authorizeCode(new Browser(s.url), c, u.username);
    const first = await redeem(c, a.code, a.verifier);
    expect(first.status, first.body).toBe(200);
    const tokens = first.json() as TokenJson;
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    return { c, tokens, replay: await redeem(c, a.code, a.verifier) };
  }

  it('oidcc-codereuse (TK-01): second redemption → 400 invalid_grant; the first access token is then refused by UserInfo; the refresh token is dead', async () => {
    const { c, tokens, replay } = await redeemTwice('code');
    expect(tokens.id_token).toBeTruthy();
    expect(replay.status).toBe(400);
    expect(replay.headers['content-type']).toMatch(/^application\/json/);
    expect(replay.json().error).toBe('invalid_grant');
    expect(String(replay.json().error_description ?? '')).not.toMatch(/[\r\n\t]/);
    expect(replay.body).not.toContain('id_token');
    expectBearerError(await userinfo(tokens.access_token), 401, 'invalid_token');
    const refreshed = await post(`${s.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, { authorization: c.basic! });
    expect(refreshed.status).toBe(400);
    expect(refreshed.json().error).toBe('invalid_grant');
  });

  it('CA-13: UserInfo refuses an implicit-flow access token (no stored row) once its client is removed', async () => {
    const { b } = await signedIn((await user()).username);
    const c = await client('implicit');
    const ok = await b.get(url(authParams(c.id, 'id_token token')));
    expect(ok.status).toBe(303);
    const at = redirectParams(ok.headers.location!, 'fragment').get('access_token')!;
    expect((await userinfo(at)).status).toBe(200);
    await s.g.clients.remove(c.id);
    expectBearerError(await userinfo(at), 401, 'invalid_token');
  });

  it('oidcc-codereuse (TK-01), client without refresh tokens: the replay still kills the first access token at UserInfo', async () => {
    const { tokens, replay } = await redeemTwice('code-only');
    expect(tokens.refresh_token).toBeUndefined();
    expect(replay.status).toBe(400);
    expect(replay.json().error).toBe('invalid_grant');
    expectBearerError(await userinfo(tokens.access_token), 401, 'invalid_token');
  });

  it('oidcc-codereuse-30seconds (TK-01): the replay 30 s later → 400 invalid_grant and the first access token no longer works', async () => {
    const u = await user();
    const c = await client('code');
    const a = await authorizeCode(new Browser(s.url), c, u.username);
    const first = await redeem(c, a.code, a.verifier);
    expect(first.status).toBe(200);
    const tokens = first.json() as TokenJson;
    clock.advance(30_000);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    const replay = await redeem(c, a.code, a.verifier);
    expect(replay.status).toBe(400);
    expect(replay.json().error).toBe('invalid_grant');
    expectBearerError(await userinfo(tokens.access_token), 401, 'invalid_token');
  });

  // ---------------------------------------------------------------------------------------------
  // the ID token

  it('ID-03: ID token claims: iss byte-for-byte, aud, azp, exp > iat, iat, auth_time, nonce, acr, amr, sid, sub = random user id; typ JWT, ES256, published kid', async () => {
    const u = await user({ email: `${uid('id03')}@example.com`, emailVerified: true });
    const c = await client('code');
    const loginAt = Math.floor(clock.now() / 1000);
    const got = await codeLogin(new Browser(s.url), c, u.username, { max_age: '600' });
    const discovered = (await request(`${s.url}/.well-known/openid-configuration`)).json() as { issuer: string };
    const { payload, header } = await verifyIdToken(got.idToken!, c.id);
    expect(header.typ).toBe('JWT');
    expect(header.alg).toBe('ES256');
    expect(header).not.toHaveProperty('jku');
    expect(header).not.toHaveProperty('jwk');
    expect(header).not.toHaveProperty('x5u');
    expect(payload.iss).toBe(discovered.issuer);
    expect(payload.aud === c.id || (Array.isArray(payload.aud) && payload.aud.includes(c.id))).toBe(true);
    expect(payload.azp).toBe(c.id);
    expect(payload.iat).toBe(Math.floor(clock.now() / 1000));
    expect(payload.exp! > payload.iat!).toBe(true);
    expect(payload.auth_time).toBe(loginAt);
    expect(payload.auth_time as number).toBeLessThanOrEqual(payload.iat!);
    expect(payload.nonce).toBe(got.params.nonce);
    expect(payload.acr).toBe('urn:gatehouse:acr:password');
    expect(payload.amr).toEqual(['pwd']);
    expect(typeof payload.sid === 'string' && payload.sid.length > 0).toBe(true);
    expect(payload.sub).toBe(u.id);
    expect(payload.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
    expect(payload.sub).not.toBe(u.username);
    expect(payload.sub).not.toBe(u.email);
    // the code flow's ID token carries no profile/email claims: those come from UserInfo
    for (const claim of ['email', 'email_verified', 'name', 'preferred_username']) expect(payload).not.toHaveProperty(claim);
    // at_hash binds it to the access token that came with it
    expect(payload.at_hash).toBe(leftHalfHash(header.alg!, got.tokens.access_token));
  });

  it('ID-04: code id_token token (hybrid): c_hash and at_hash recomputed independently; the token endpoint ID token agrees', async () => {
    const u = await user();
    const c = await client('hybrid');
    const { frag, params, verifier } = await frontChannel(new Browser(s.url), c, 'code id_token token', u.username);
    const code = frag.get('code')!;
    const at = frag.get('access_token')!;
    const idt = frag.get('id_token')!;
    expect(code && at && idt).toBeTruthy();
    expect(frag.has('refresh_token')).toBe(false);
    const { payload, header } = await verifyIdToken(idt, c.id);
    expect(payload.c_hash).toBe(leftHalfHash(header.alg!, code));
    expect(payload.at_hash).toBe(leftHalfHash(header.alg!, at));
    expect(payload.c_hash).not.toBe(leftHalfHash(header.alg!, `${code}x`));
    expect(payload.nonce).toBe(params.nonce);
    expect(payload.sub).toBe(u.id);
    // the code, redeemed: same user, same nonce, at_hash of the new access token
    const r = await redeem(c, code, verifier);
    expect(r.status, r.body).toBe(200);
    const t = r.json() as TokenJson;
    const back = await verifyIdToken(t.id_token!, c.id);
    expect(back.payload.sub).toBe(u.id);
    expect(back.payload.nonce).toBe(params.nonce);
    expect(back.payload.sid).toBe(payload.sid);
    expect(back.payload.at_hash).toBe(leftHalfHash(algOf(t.id_token!), t.access_token));
  });

  it('ID-04: code id_token has c_hash (no at_hash); id_token token has at_hash (no c_hash); id_token alone has neither', async () => {
    const u = await user();
    const hyb = await client('hybrid');
    const imp = await client('implicit');
    const b = new Browser(s.url);
    const h = await frontChannel(b, hyb, 'code id_token', u.username);
    expect(h.frag.has('access_token')).toBe(false);
    const hp = await verifyIdToken(h.frag.get('id_token')!, hyb.id);
    expect(hp.payload.c_hash).toBe(leftHalfHash(hp.header.alg!, h.frag.get('code')!));
    expect(hp.payload).not.toHaveProperty('at_hash');
    const i = await frontChannel(b, imp, 'id_token token', u.username);
    expect(i.frag.has('code')).toBe(false);
    const ip = await verifyIdToken(i.frag.get('id_token')!, imp.id);
    expect(ip.payload.at_hash).toBe(leftHalfHash(ip.header.alg!, i.frag.get('access_token')!));
    expect(ip.payload).not.toHaveProperty('c_hash');
    const o = await frontChannel(b, imp, 'id_token', u.username);
    expect(o.frag.has('access_token')).toBe(false);
    expect(o.frag.has('code')).toBe(false);
    const op = await verifyIdToken(o.frag.get('id_token')!, imp.id);
    expect(op.payload).not.toHaveProperty('at_hash');
    expect(op.payload).not.toHaveProperty('c_hash');
    expect(op.payload.nonce).toBe(o.params.nonce);
  });

  it('response_type=id_token: with no access token the scope claims are in the ID token (OIDC Core §5.4)', async () => {
    const u = await user({ email: `${uid('imp')}@example.com`, emailVerified: true, displayName: 'Implicit Person' });
    const imp = await client('implicit');
    const { frag } = await frontChannel(new Browser(s.url), imp, 'id_token', u.username, { scope: 'openid profile email' });
    const { payload } = await verifyIdToken(frag.get('id_token')!, imp.id);
    expect(payload).toMatchObject({ sub: u.id, name: 'Implicit Person', preferred_username: u.username, email: u.email, email_verified: true });
    const { frag: f2 } = await frontChannel(new Browser(s.url), imp, 'id_token token', u.username, { scope: 'openid profile email' });
    const p2 = (await verifyIdToken(f2.get('id_token')!, imp.id)).payload;
    for (const claim of ['email', 'email_verified', 'name', 'preferred_username']) expect(p2, claim).not.toHaveProperty(claim);
  });

  // ---------------------------------------------------------------------------------------------
  // scopes and UserInfo

  const SCOPE_SETS: Array<[string, string, string[]]> = [
    ['openid alone: UserInfo gives just sub', 'openid', []],
    ['oidcc-scope-profile', 'openid profile', ['name', 'preferred_username', 'updated_at']],
    ['oidcc-scope-email', 'openid email', ['email', 'email_verified']],
    ['oidcc-scope-all (profile + email)', 'openid profile email', ['name', 'preferred_username', 'updated_at', 'email', 'email_verified']],
  ];
  for (const [label, scope, claims] of SCOPE_SETS) {
    it(`${label}: UserInfo releases exactly sub + ${claims.join(', ') || 'nothing else'}, matching the user`, async () => {
      const u = await user({ email: `${uid('sc')}@example.com`, emailVerified: true, displayName: 'Scope Person' });
      const c = await client('code');
      const got = await codeLogin(new Browser(s.url), c, u.username, { scope });
      const r = await userinfo(got.tokens.access_token);
      expect(r.status, r.body).toBe(200);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['cache-control']).toBe('no-store');
      const row = (await s.g.store.users.findById(u.id))!;
      const all: Record<string, unknown> = {
        name: 'Scope Person', preferred_username: u.username, updated_at: Math.floor(row.updated_at / 1000), email: u.email, email_verified: true,
      };
      expect(r.json()).toEqual({ sub: u.id, ...Object.fromEntries(claims.map((k) => [k, all[k]])) });
      expect(got.claims.sub).toBe(u.id);
    });
  }

  it('oidcc-scope-email: email_verified is false for an unverified address; no email claims for a user without one', async () => {
    const unverified = await user({ email: `${uid('unv')}@example.com`, emailVerified: false });
    const none = await user();
    const c = await client('code');
    const a = await codeLogin(new Browser(s.url), c, unverified.username, { scope: 'openid email' });
    expect((await userinfo(a.tokens.access_token)).json()).toEqual({ sub: unverified.id, email: unverified.email, email_verified: false });
    const b = await codeLogin(new Browser(s.url), c, none.username, { scope: 'openid email profile' });
    const ui = (await userinfo(b.tokens.access_token)).json() as Record<string, unknown>;
    expect(ui.sub).toBe(none.id);
    expect(ui).not.toHaveProperty('email');
    expect(ui).not.toHaveProperty('email_verified');
    expect(ui.name).toBe(none.username); // no display name: the username
  });

  it('oidcc-userinfo-get / -post-header / -post-body: the same answer three ways', async () => {
    const u = await user({ email: `${uid('ui')}@example.com`, emailVerified: true });
    const c = await client('code');
    const got = await codeLogin(new Browser(s.url), c, u.username, { scope: 'openid email' });
    const answers: unknown[] = [];
    for (const how of ['get', 'post-header', 'post-body'] as const) {
      const r = await userinfo(got.tokens.access_token, how);
      expect(r.status, `${how}: ${r.body}`).toBe(200);
      answers.push(r.json());
    }
    expect(answers[0]).toEqual({ sub: u.id, email: u.email, email_verified: true });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
  });

  it('UserInfo: header and body together → 400 invalid_request; token in the query → 400; no token → bare challenge (RS-01)', async () => {
    const u = await user();
    const c = await client('code');
    const got = await codeLogin(new Browser(s.url), c, u.username);
    const at = got.tokens.access_token;
    const both = await post(`${s.url}/oidc/userinfo`, { access_token: at }, { authorization: `Bearer ${at}` });
    expectBearerError(both, 400, 'invalid_request');
    expectBearerError(await request(`${s.url}/oidc/userinfo?access_token=${encodeURIComponent(at)}`), 400, 'invalid_request');
    expectBearerError(await request(`${s.url}/oidc/userinfo?access_token=${encodeURIComponent(at)}`, { headers: { authorization: `Bearer ${at}` } }), 400, 'invalid_request');
    expectBearerError(await request(`${s.url}/oidc/userinfo?access_token=${encodeURIComponent(at)}`, { method: 'POST' }), 400, 'invalid_request');
    expectBearerError(await post(`${s.url}/oidc/userinfo`, { access_token: '' }), 400, 'invalid_request');
    const bare = await request(`${s.url}/oidc/userinfo`);
    expect(bare.status).toBe(401);
    expect(bare.all('www-authenticate')).toHaveLength(1);
    expect(bare.headers['www-authenticate']).toMatch(/^Bearer realm="[^"]*"$/);
  });

  it('ID-09: a code-flow access token revoked through /oauth/revoke → UserInfo 401 invalid_token', async () => {
    const u = await user();
    const c = await client('code');
    const got = await codeLogin(new Browser(s.url), c, u.username);
    expect((await userinfo(got.tokens.access_token)).status).toBe(200);
    const rv = await post(`${s.url}/oauth/revoke`, { token: got.tokens.access_token }, { authorization: c.basic! });
    expect(rv.status, rv.body).toBe(200);
    expectBearerError(await userinfo(got.tokens.access_token), 401, 'invalid_token');
    expectBearerError(await userinfo(got.tokens.access_token, 'post-body'), 401, 'invalid_token');
  });

  it('ID-09: an implicit (id_token token) access token revoked through /oauth/revoke → UserInfo 401 invalid_token', async () => {
    const u = await user();
    const imp = await client('implicit');
    const { frag } = await frontChannel(new Browser(s.url), imp, 'id_token token', u.username);
    const at = frag.get('access_token')!;
    expect((await userinfo(at)).status).toBe(200);
    const rv = await post(`${s.url}/oauth/revoke`, { token: at }, { authorization: imp.basic! });
    expect(rv.status, rv.body).toBe(200);
    expectBearerError(await userinfo(at), 401, 'invalid_token');
  });

  it('ID-09: opaque access tokens: UserInfo answers; revoked → 401 invalid_token', async () => {
    const u = await user();
    const c = await client('code', { tokenFormat: 'opaque' });
    const got = await codeLogin(new Browser(s.url), c, u.username);
    expect(got.tokens.access_token.split('.')).toHaveLength(1);
    const ok = await userinfo(got.tokens.access_token, 'post-body');
    expect(ok.status, ok.body).toBe(200);
    expect(ok.json().sub).toBe(u.id);
    expect((await post(`${s.url}/oauth/revoke`, { token: got.tokens.access_token }, { authorization: c.basic! })).status).toBe(200);
    expectBearerError(await userinfo(got.tokens.access_token), 401, 'invalid_token');
  });

  it('ID-09: a token without openid → 403 insufficient_scope (scope="openid" in the challenge)', async () => {
    const u = await user();
    const c = await client('code');
    const got = await codeLogin(new Browser(s.url), c, u.username, { scope: 'api' });
    expect(got.tokens.id_token).toBeUndefined();
    const r = await userinfo(got.tokens.access_token);
    expectBearerError(r, 403, 'insufficient_scope');
    expect(r.headers['www-authenticate']).toMatch(/scope="[^"]*openid[^"]*"/);
    // and the token itself is fine for its own resource
    expect((await request(`${s.url}/api/oauth/resources`, { headers: { authorization: `Bearer ${got.tokens.access_token}` } })).status).toBe(200);
  });

  it('ID-09: an ID token presented as the bearer token → 401 invalid_token (GET and POST body)', async () => {
    const u = await user();
    const c = await client('code');
    const got = await codeLogin(new Browser(s.url), c, u.username);
    expectBearerError(await userinfo(got.idToken!), 401, 'invalid_token');
    expectBearerError(await userinfo(got.idToken!, 'post-body'), 401, 'invalid_token');
  });

  it('ID-09: a client_credentials token (no user) → 401 invalid_token; client_credentials cannot ask for openid', async () => {
    const id = uid('cc');
    const { secret } = await s.g.clients.create({ clientId: id, grantTypes: ['client_credentials'] });
    const basic = clientBasic(id, secret!);
    const withOpenid = await post(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'openid' }, { authorization: basic });
    expect(withOpenid.status).toBe(400);
    expect(withOpenid.json().error).toBe('invalid_scope');
    const r = await post(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'api' }, { authorization: basic });
    expect(r.status, r.body).toBe(200);
    expectBearerError(await userinfo((r.json() as TokenJson).access_token), 401, 'invalid_token');
  });

  it('ID-09: a disabled user → 401 invalid_token for an implicit token and a code-flow token issued before', async () => {
    const u = await user();
    const imp = await client('implicit');
    const code = await client('code');
    const b = new Browser(s.url);
    const { frag } = await frontChannel(b, imp, 'token', u.username, { scope: 'openid', nonce: undefined });
    const implicitToken = frag.get('access_token')!;
    const got = await codeLogin(b, code, u.username);
    expect((await userinfo(implicitToken)).status).toBe(200);
    expect((await userinfo(got.tokens.access_token)).status).toBe(200);
    await s.g.accounts.setDisabled(u.username, true);
    expectBearerError(await userinfo(implicitToken), 401, 'invalid_token');
    expectBearerError(await userinfo(got.tokens.access_token), 401, 'invalid_token');
  });

  // ---------------------------------------------------------------------------------------------
  // RP-initiated logout (ID-06) and back-channel logout

  it('ID-06 oidcc-rp-initiated-logout-bad-id-token-hint: a hint issued to another client than client_id → 400 page, no redirect, session alive', async () => {
    const { c, b, idToken } = await rpSession();
    const other = await client('code', { postLogoutRedirectUris: [PLR] });
    const r = await b.get(logoutUrl({ id_token_hint: idToken, client_id: other.id, post_logout_redirect_uri: PLR, state: 'x' }));
    expectErrorPage(r, 'foreign client_id');
    expect(setCookies(r).some((x) => x.name === SESSION)).toBe(false);
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('ID-06 oidcc-rp-initiated-logout-modified-id-token-hint: signature or payload changed, alg none → 400 page, no redirect', async () => {
    const { c, b, idToken } = await rpSession();
    const [h, , sig] = idToken.split('.') as [string, string, string];
    const claims = payloadOf(idToken);
    for (const [label, hint] of [
      ['signature bit', flipBit(idToken, 2, 11)],
      ['payload aud changed', `${h}.${Buffer.from(JSON.stringify({ ...claims, aud: 'evil' })).toString('base64url')}.${sig}`],
      ['alg none', `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${idToken.split('.')[1]}.`],
      ['not a JWT', 'abc'],
    ] as const) {
      const r = await b.get(logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: PLR, state: 's' }));
      expectErrorPage(r, label);
    }
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('ID-06 oidcc-rp-initiated-logout-bad-logout-redirect-uri: unregistered, another client\'s, or without any client → 400 page, no redirect', async () => {
    const { c, b, idToken } = await rpSession();
    const other = await client('code', { postLogoutRedirectUris: ['https://other.example/bye'] });
    const cases: Array<[string, Record<string, string>]> = [
      ['unregistered (hint)', { id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/bye' }],
      ['unregistered (client_id)', { client_id: c.id, post_logout_redirect_uri: 'https://client.example/elsewhere' }],
      ['another client\'s', { id_token_hint: idToken, post_logout_redirect_uri: 'https://other.example/bye' }],
      ['registered for nobody named', { post_logout_redirect_uri: PLR }],
      ['unknown client_id', { client_id: 'no-such-client', post_logout_redirect_uri: PLR }],
      ['case changed', { id_token_hint: idToken, post_logout_redirect_uri: PLR.toUpperCase() }],
    ];
    for (const [label, p] of cases) expectErrorPage(await b.get(logoutUrl({ ...p, state: 'st' })), label);
    expect(other.id).toBeTruthy();
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('ID-06 oidcc-rp-initiated-logout-query-added-to-logout-redirect-uri: extra query, trailing slash or fragment → 400 page, no redirect', async () => {
    const { c, b, idToken } = await rpSession();
    for (const variant of [`${PLR}?x=1`, `${PLR}/`, `${PLR}#f`, `${PLR}?`]) {
      expectErrorPage(await b.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: variant })), variant);
    }
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('oidcc-rp-initiated-logout-no-params: signed in → confirmation page (never a redirect); signed out → "Signed out" page', async () => {
    const { b } = await rpSession();
    const r = await b.get(logoutUrl());
    expect(isLogoutConfirmation(r), r.body.slice(0, 400)).toBe(true);
    expect(r.headers.location).toBeUndefined();
    expect(hiddenFields(r.body).csrf_token).toBeTruthy();
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(await sessionAlive(b)).toBe(true);
    // a link cannot pick the button for the user
    const forced = await b.get(`${logoutUrl()}?gatehouse_action=logout`);
    expect(isLogoutConfirmation(forced)).toBe(true);
    expect(await sessionAlive(b)).toBe(true);
    const anon = await new Browser(s.url).get(logoutUrl());
    expect(anon.status).toBe(200);
    expect(anon.headers.location).toBeUndefined();
    expect(anon.body).toContain('Signed out');
  });

  it('RP-initiated logout with hint, post_logout_redirect_uri and state: confirmation → 303 to the URI with state; session ended; back-channel logout token verified', async () => {
    const { u, c, b, idToken, sid } = await rpSession();
    const state = 'st "&=?/ é';
    const page = await b.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: PLR, state }));
    expect(isLogoutConfirmation(page), page.body.slice(0, 400)).toBe(true);
    expect(page.body).toContain(u.username);
    const f = hiddenFields(page.body);
    expect(f).toMatchObject({ id_token_hint: idToken, post_logout_redirect_uri: PLR, state });
    expect(bc.for(c.id)).toHaveLength(0); // nothing before the user confirms
    const done = await b.post('/oidc/logout', { ...f, gatehouse_action: 'logout' });
    expect(done.status, done.body.slice(0, 300)).toBe(303);
    expect(done.headers.location).toBe(`${PLR}?${new URLSearchParams({ state }).toString()}`);
    expect(new URL(done.headers.location!).searchParams.get('state')).toBe(state);
    expect(setCookies(done).some((x) => x.name === SESSION && (x.value === '' || /max-age=0/i.test(x.raw)))).toBe(true);
    expect(b.cookies.has(SESSION)).toBe(false);
    expect(await sessionAlive(b)).toBe(false);
    const none = authParams(c.id, 'code', { prompt: 'none' });
    expectErrorRedirect(await b.get(url(none)), 'login_required', none.state);
    const got = bc.for(c.id);
    expect(got).toHaveLength(1);
    await expectLogoutToken(got[0]!, c.id, u.id, sid);
  });

  it('oidcc-rp-initiated-logout-no-state / -no-id-token-hint: client_id + post_logout_redirect_uri, no state → redirect to the URI exactly', async () => {
    const { u, c, b, sid } = await rpSession();
    const page = await b.get(logoutUrl({ client_id: c.id, post_logout_redirect_uri: PLR }));
    expect(isLogoutConfirmation(page)).toBe(true);
    const done = await b.post('/oidc/logout', { ...hiddenFields(page.body), gatehouse_action: 'logout' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(PLR);
    expect(await sessionAlive(b)).toBe(false);
    const got = bc.for(c.id);
    expect(got).toHaveLength(1);
    await expectLogoutToken(got[0]!, c.id, u.id, sid);
  });

  it('ID-06: an expired id_token_hint of ours is accepted at logout (RP-Initiated Logout §2)', async () => {
    const { c, b, idToken } = await rpSession();
    const exp = payloadOf(idToken).exp as number;
    clock.advance((exp + 60) * 1000 - clock.now());
    const page = await b.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: PLR, state: 'late' }));
    expect(isLogoutConfirmation(page), page.body.slice(0, 300)).toBe(true);
    const done = await b.post('/oidc/logout', { ...hiddenFields(page.body), gatehouse_action: 'logout' });
    expect(done.headers.location).toBe(`${PLR}?state=late`);
    expect(bc.for(c.id)).toHaveLength(1);
  });

  it('a session that runs out ends like a logout: its clients get a logout token, on its next use or at the maintenance purge', async () => {
    const seen = await rpSession();
    const unseen = await rpSession();
    clock.advance(s.settings.sessionIdleTtl * 1000 + 1000);
    expect(await sessionAlive(seen.b)).toBe(false);
    for (let i = 0; i < 40 && bc.for(seen.c.id).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(bc.for(seen.c.id)).toHaveLength(1);
    await expectLogoutToken(bc.for(seen.c.id)[0]!, seen.c.id, seen.u.id, seen.sid);
    expect(bc.for(unseen.c.id)).toHaveLength(0);
    expect(await s.g.sessions.purgeExpired(clock.now())).toBeGreaterThanOrEqual(1);
    expect(bc.for(unseen.c.id)).toHaveLength(1);
    await expectLogoutToken(bc.for(unseen.c.id)[0]!, unseen.c.id, unseen.u.id, unseen.sid);
  });

  it('RP-initiated logout without a session: nothing to confirm, straight 303 to the registered URI with state', async () => {
    const { c, idToken } = await rpSession();
    const r = await new Browser(s.url).get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: PLR, state: 'gone' }));
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe(`${PLR}?state=gone`);
    expect(bc.for(c.id)).toHaveLength(0); // that session was not ended
  });

  it('SS-08: a cross-site POST of the logout form (foreign Origin, or Sec-Fetch-Site cross-site) → 403; session and cookie stay, no logout token', async () => {
    const { c, b, idToken } = await rpSession();
    const page = await b.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: PLR, state: 'x' }));
    const fields = { ...hiddenFields(page.body), gatehouse_action: 'logout' };
    const foreign: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { origin: 'null' }, { origin: '', 'sec-fetch-site': 'cross-site' }];
    for (const headers of foreign) {
      const r = await b.post('/oidc/logout', fields, headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.headers.location).toBeUndefined();
      expect(setCookies(r).some((x) => x.name === SESSION)).toBe(false);
    }
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('SS-08: a cross-site form POST to /oidc/logout that arrives without the SameSite=Lax session cookie (as browsers send it) does not clear that cookie', async () => {
    const { c, b, idToken } = await rpSession();
    // What a browser sends when another site auto-submits a form to the end-session endpoint: its
    // Origin, and no SameSite=Lax cookie. The browser would still store a Set-Cookie of the
    // response (a top-level navigation), so deleting the cookie here signs the user out unasked.
    for (const fields of [{}, { id_token_hint: idToken, post_logout_redirect_uri: PLR, state: 'x' }] as Array<Record<string, string>>) {
      const r = await post(`${s.url}/oidc/logout`, fields, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
      const deleted = setCookies(r).filter((x) => x.name === SESSION && (x.value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(x.raw)));
      expect(deleted.map((x) => x.raw), `${JSON.stringify(Object.keys(fields))}: ${r.status} ${r.headers.location ?? ''}`).toEqual([]);
    }
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('logout POST with a wrong CSRF token, another session\'s token or none → 403; session stays', async () => {
    const { c, b, idToken } = await rpSession();
    const other = await rpSession();
    const page = await b.get(logoutUrl({ id_token_hint: idToken }));
    const otherPage = await other.b.get(logoutUrl());
    const fields = hiddenFields(page.body);
    for (const csrf of [hiddenFields(otherPage.body).csrf_token!, 'x'.repeat(43), '']) {
      const r = await b.post('/oidc/logout', { ...fields, csrf_token: csrf, gatehouse_action: 'logout' });
      expect(r.status).toBe(403);
      expect(r.headers.location).toBeUndefined();
    }
    const { csrf_token: _drop, ...noToken } = fields;
    expect((await b.post('/oidc/logout', { ...noToken, gatehouse_action: 'logout' })).status).toBe(403);
    expect(await sessionAlive(b)).toBe(true);
    expect(await sessionAlive(other.b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
  });

  it('"Stay signed in" keeps the session: no redirect, no cookie change, no logout token', async () => {
    const { c, b, idToken } = await rpSession();
    const page = await b.get(logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: PLR, state: 'x' }));
    const r = await b.post('/oidc/logout', { ...hiddenFields(page.body), gatehouse_action: 'stay' });
    expect(r.status).toBe(200);
    expect(r.headers.location).toBeUndefined();
    expect(setCookies(r).some((x) => x.name === SESSION)).toBe(false);
    expect(await sessionAlive(b)).toBe(true);
    expect(bc.for(c.id)).toHaveLength(0);
    const none = authParams(c.id, 'code', { prompt: 'none' });
    const still = await b.get(url(none));
    expect(redirectParams(still.headers.location!).get('code')).toBeTruthy();
  });

  it('Back-channel logout on POST /session/logout: one token per openid client of the session (same sid), none for a non-openid client or another session', async () => {
    const u = await user();
    const b = new Browser(s.url);
    const c1 = await client('code', { backchannel: true });
    const c2 = await client('hybrid', { backchannel: true });
    const apiOnly = await client('code', { backchannel: true });
    const elsewhere = await client('code', { backchannel: true });
    const g1 = await codeLogin(b, c1, u.username);
    const g2 = await frontChannel(b, c2, 'code id_token', u.username);
    const sid2 = payloadOf(g2.frag.get('id_token')!).sid;
    expect(sid2).toBe(g1.claims.sid);
    await codeLogin(b, apiOnly, u.username, { scope: 'api' });
    await codeLogin(new Browser(s.url), elsewhere, u.username); // another browser, another session
    const csrf = (await b.get(`${s.url}/api/session/resources`)).json().csrf_token as string;
    const out = await b.post('/session/logout', { csrf_token: csrf });
    expect(out.status, out.body).toBe(200);
    expect(await sessionAlive(b)).toBe(false);
    const sid = String(g1.claims.sid);
    expect(bc.for(c1.id)).toHaveLength(1);
    await expectLogoutToken(bc.for(c1.id)[0]!, c1.id, u.id, sid);
    expect(bc.for(c2.id)).toHaveLength(1);
    await expectLogoutToken(bc.for(c2.id)[0]!, c2.id, u.id, sid);
    expect(bc.for(apiOnly.id)).toHaveLength(0);
    expect(bc.for(elsewhere.id)).toHaveLength(0);
    const jti1 = payloadOf(bc.for(c1.id)[0]!.form.get('logout_token')!).jti;
    const jti2 = payloadOf(bc.for(c2.id)[0]!.form.get('logout_token')!).jti;
    expect(jti1).not.toBe(jti2);
  });

  it('Back-channel logout: a client signed in before a re-login (prompt=login replaces the session) still gets a logout token for its sid when the user signs out', async () => {
    const u = await user();
    const b = new Browser(s.url);
    const a = await client('code', { backchannel: true });
    const other = await client('code', { backchannel: true });
    const first = await codeLogin(b, a, u.username);
    const second = await codeLogin(b, other, u.username, { prompt: 'login' });
    expect(second.claims.sid).not.toBe(first.claims.sid); // the session was replaced
    const page = await b.get(logoutUrl({ id_token_hint: second.idToken!, post_logout_redirect_uri: PLR }));
    const done = await b.post('/oidc/logout', { ...hiddenFields(page.body), gatehouse_action: 'logout' });
    expect(done.status).toBe(303);
    expect(bc.for(other.id)).toHaveLength(1);
    const toA = bc.for(a.id).map((r) => payloadOf(r.form.get('logout_token')!));
    expect(toA.map((p) => p.sid), `client ${a.id} (ID token sid ${String(first.claims.sid)}) was never told`).toContain(first.claims.sid);
  });
});
