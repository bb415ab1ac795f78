// OAuth 2.0 token side: POST /oauth/token, /oauth/revoke (RFC 7009), /oauth/introspect (RFC 7662),
// RFC 8414 metadata, the demo resource, and `gatehouse client`. oauth4webapi is the independent
// client wherever it can talk to the server; raw HTTP covers what a conforming client never sends.
// Catalogue §4.5 (TK-*) and §4.6 (CA-*).
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { main, type Io } from '../src/cli/main.js';
import { hashToken } from '../src/crypto/tokens.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import { request, type RawResponse } from './support/http.js';
import { attackerKey, forge } from './support/forge.js';
import { decodeSegment, PW } from './support/jwt-login.js';
import { clientBasic, discover, INSECURE, insertCode, newVerifier, post } from './support/oauth.js';
import { startOne, type TestDatabase, type TestServer } from './support/server.js';

type S = TestServer & { db: TestDatabase };

const REDIRECT = 'https://app.example.com/cb';

/** Every response seen, to check no-store and no 500 at the end. */
function track(seen: RawResponse[]) {
  return async (p: Promise<RawResponse>): Promise<RawResponse> => {
    const r = await p;
    seen.push(r);
    return r;
  };
}

function expectError(r: RawResponse, status: number, error: string): void {
  expect({ status: r.status, body: r.body }).toMatchObject({ status });
  expect(r.json().error).toBe(error);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  // TK-16: error_description printable, no CR/LF/TAB, no quote or backslash.
  const d = r.json().error_description;
  if (d !== undefined) expect(d).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
}

describeEachEngine('oauth token side', (engine) => {
  let s: S;
  let as: oauth.AuthorizationServer;
  const clock = new ManualClock();
  const seen: RawResponse[] = [];
  const t = track(seen);
  let n = 0;
  const uid = (p: string) => `${p}-${++n}`;
  const tokenUrl = () => `${s.url}/oauth/token`;
  const token = (fields: Record<string, string> | string[][], headers: Record<string, string> = {}) => t(post(tokenUrl(), fields, headers));
  const revoke = (fields: Record<string, string>, headers: Record<string, string> = {}) => t(post(`${s.url}/oauth/revoke`, fields, headers));
  const introspect = (fields: Record<string, string>, headers: Record<string, string> = {}) => t(post(`${s.url}/oauth/introspect`, fields, headers));
  const resource = (at: string) => t(request(`${s.url}/api/oauth/resources`, { headers: { authorization: `Bearer ${at}` } }));

  async function confidential(grantTypes: string[], extra: Record<string, unknown> = {}, id = uid('conf')) {
    const { secret } = await s.g.clients.create({ clientId: id, grantTypes, redirectUris: grantTypes.includes('authorization_code') ? [REDIRECT] : undefined, ...extra });
    return { id, secret: secret!, basic: clientBasic(id, secret!) };
  }
  async function publicClient(grantTypes: string[], extra: Record<string, unknown> = {}) {
    const id = uid('pub');
    await s.g.clients.create({ clientId: id, grantTypes, public: true, redirectUris: grantTypes.includes('authorization_code') ? [REDIRECT] : undefined, ...extra });
    return { id };
  }
  async function user(): Promise<{ id: string; username: string }> {
    const username = uid('user');
    const u = await s.g.accounts.create({ username, password: PW });
    return { id: u.id, username };
  }
  async function ccToken(c: { basic: string }, scope?: string): Promise<Record<string, any>> {
    const r = await token({ grant_type: 'client_credentials', ...(scope !== undefined ? { scope } : {}) }, { authorization: c.basic });
    expect(r.status, r.body).toBe(200);
    return r.json();
  }
  beforeAll(async () => {
    s = await startOne(engine, { clock, flags: { ...FAST_ARGON2, scopes: 'api,other', 'lockout-free-failures': '1' } });
    as = await discover(s.url);
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  // ---------------------------------------------------------------------------------------------
  describe('metadata (RFC 8414)', () => {
    it('names this issuer, absolute endpoints on it, and only the grants that work today', async () => {
      const r = await t(request(`${s.url}/.well-known/oauth-authorization-server`));
      expect(r.status).toBe(200);
      const m = r.json();
      expect(m.issuer).toBe(s.settings.issuer);
      expect(as.issuer).toBe(s.settings.issuer);
      for (const k of ['token_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'jwks_uri']) {
        expect(typeof m[k]).toBe('string');
        expect(m[k].startsWith(`${m.issuer}/`), k).toBe(true);
        expect(new URL(m[k]).href).toBe(m[k]);
      }
      expect(m.token_endpoint).toBe(`${m.issuer}/oauth/token`);
      if (m.authorization_endpoint === undefined) {
        // token side only: no grant that needs the authorization endpoint, no PKCE methods
        expect([...m.grant_types_supported].sort()).toEqual(['client_credentials', 'password', 'refresh_token']);
        expect(m.code_challenge_methods_supported).toBeUndefined();
        expect(m.response_types_supported).toEqual([]);
      } else {
        // the authorization endpoint is mounted (src/http/app.ts): then code, PKCE S256 only
        expect(m.authorization_endpoint).toBe(`${m.issuer}/oauth/authorize`);
        expect(m.grant_types_supported).toContain('authorization_code');
        expect(m.code_challenge_methods_supported).toEqual(['S256']);
      }
      expect(m.scopes_supported).toEqual(['api', 'other', 'openid', 'profile', 'email']);
      expect(m.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
      expect(m.introspection_endpoint_auth_methods_supported).not.toContain('none');
      const jwks = await t(request(m.jwks_uri));
      expect(jwks.status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('client authentication (§4.6)', () => {
    it('client_secret_basic with oauth4webapi, id "svc+1" form-urlencoded (CA-02)', async () => {
      const c = await confidential(['client_credentials'], {}, uid('svc+1'));
      const client: oauth.Client = { client_id: c.id };
      const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(c.secret), { scope: 'api' }, INSECURE);
      const body = await oauth.processClientCredentialsResponse(as, client, res);
      expect(body.access_token).toBeTruthy();
      expect(body.token_type).toBe('bearer');
      expect(body.refresh_token).toBeUndefined(); // TK-13
      expect(decodeSegment(body.access_token, 1).sub).toBe(c.id);
    });

    it('Basic "+" is a space after form-decoding; "%2B" is "+" (RFC 6749 §2.3.1)', async () => {
      const c = await confidential(['client_credentials'], {}, uid('svc+1'));
      // Properly encoded: svc%2B1-N
      const ok = await token({ grant_type: 'client_credentials' }, { authorization: clientBasic(c.id, c.secret, true) });
      expect(ok.status, ok.body).toBe(200);
      // Not encoded: the "+" reads as a space, which names another (unknown) client.
      const raw = await token({ grant_type: 'client_credentials' }, { authorization: clientBasic(c.id, c.secret, false) });
      expectError(raw, 401, 'invalid_client');
      // A client whose id really is "svc 1"-like cannot exist (spaces refused at registration).
      await expect(s.g.clients.create({ clientId: 'svc 1', grantTypes: ['client_credentials'] })).rejects.toThrow();
      await expect(s.g.clients.create({ clientId: 'a b:c', grantTypes: ['client_credentials'] })).rejects.toThrow();
      // Malformed percent-encoding in Basic → 401, not 500.
      const bad = await token({ grant_type: 'client_credentials' }, { authorization: 'Basic ' + Buffer.from(`svc%E0%A4%A:${c.secret}`).toString('base64') });
      expectError(bad, 401, 'invalid_client');
    });

    it('client_secret_post works (oauth4webapi ClientSecretPost)', async () => {
      const c = await confidential(['client_credentials']);
      const client: oauth.Client = { client_id: c.id };
      const res = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(c.secret), {}, INSECURE);
      const body = await oauth.processClientCredentialsResponse(as, client, res);
      expect(body.scope).toBe('api other');
    });

    it('both methods at once → 400 invalid_request (CA-03)', async () => {
      const c = await confidential(['client_credentials']);
      const r = await token({ grant_type: 'client_credentials', client_id: c.id, client_secret: c.secret }, { authorization: c.basic });
      expectError(r, 400, 'invalid_request');
    });

    it('wrong secret → 401 invalid_client with a Basic challenge (CA-01, TK-10)', async () => {
      const c = await confidential(['client_credentials']);
      for (const r of [
        await token({ grant_type: 'client_credentials' }, { authorization: clientBasic(c.id, c.secret + 'x') }),
        await token({ grant_type: 'client_credentials', client_id: c.id, client_secret: 'nope' }),
      ]) {
        expectError(r, 401, 'invalid_client');
        expect(r.all('www-authenticate')).toHaveLength(1);
        expect(r.headers['www-authenticate']).toMatch(/^Basic realm="[^"]+"/);
      }
    });

    it('unknown client → 401 invalid_client', async () => {
      const r = await token({ grant_type: 'client_credentials' }, { authorization: clientBasic('nobody-here', 'x') });
      expectError(r, 401, 'invalid_client');
      const r2 = await token({ grant_type: 'client_credentials', client_id: 'nobody-here', client_secret: 'x' });
      expectError(r2, 401, 'invalid_client');
      const r3 = await token({ grant_type: 'client_credentials' });
      expectError(r3, 401, 'invalid_client');
    });

    it('confidential client naming itself without a secret → 401 (TK-19)', async () => {
      const c = await confidential(['refresh_token', 'client_credentials']);
      expectError(await token({ grant_type: 'client_credentials', client_id: c.id }), 401, 'invalid_client');
      expectError(await token({ grant_type: 'refresh_token', client_id: c.id, refresh_token: 'x'.repeat(43) }), 401, 'invalid_client');
    });

    it('public client with client_id only may refresh but not use client_credentials; a public client cannot be registered with it', async () => {
      await expect(s.g.clients.create({ clientId: uid('p'), public: true, grantTypes: ['client_credentials'] })).rejects.toThrow(/public/);
      const p = await publicClient(['authorization_code', 'refresh_token', 'password']);
      const u = await user();
      // password grant gives a refresh token for a public client with client_id only
      const pw = await token({ grant_type: 'password', client_id: p.id, username: u.username, password: PW });
      expect(pw.status, pw.body).toBe(200);
      const client: oauth.Client = { client_id: p.id, token_endpoint_auth_method: 'none' };
      const res = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), pw.json().refresh_token, INSECURE);
      const body = await oauth.processRefreshTokenResponse(as, client, res);
      expect(body.refresh_token).toBeTruthy();
      expect(body.refresh_token).not.toBe(pw.json().refresh_token);
      // client_credentials: not in its grants → unauthorized_client (it cannot have it anyway)
      expectError(await token({ grant_type: 'client_credentials', client_id: p.id }), 400, 'unauthorized_client');
      // a public client presenting a secret → invalid_client
      expectError(await token({ grant_type: 'refresh_token', client_id: p.id, client_secret: 'x', refresh_token: body.refresh_token! }), 401, 'invalid_client');
    });

    it('Basic client_id and a different body client_id → 400 invalid_request', async () => {
      const c = await confidential(['client_credentials']);
      expectError(await token({ grant_type: 'client_credentials', client_id: 'other' }, { authorization: c.basic }), 400, 'invalid_request');
      // same client_id in body is fine
      expect((await token({ grant_type: 'client_credentials', client_id: c.id }, { authorization: c.basic })).status).toBe(200);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('token endpoint request handling', () => {
    it('grant not allowed → unauthorized_client; unknown grant → unsupported_grant_type; missing grant → invalid_request (TK-11)', async () => {
      const c = await confidential(['client_credentials']);
      expectError(await token({ grant_type: 'password', username: 'a', password: 'b' }, { authorization: c.basic }), 400, 'unauthorized_client');
      expectError(await token({ grant_type: 'refresh_token', refresh_token: 'x' }, { authorization: c.basic }), 400, 'unauthorized_client');
      expectError(await token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer' }, { authorization: c.basic }), 400, 'unsupported_grant_type');
      expectError(await token({ grant_type: 'implicit' }, { authorization: c.basic }), 400, 'unsupported_grant_type');
      expectError(await token({}, { authorization: c.basic }), 400, 'invalid_request');
    });

    it('a JSON body → 400 invalid_request; no body → 400', async () => {
      const c = await confidential(['client_credentials']);
      const r = await t(request(tokenUrl(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: c.basic }, body: JSON.stringify({ grant_type: 'client_credentials' }) }));
      expectError(r, 400, 'invalid_request');
      const r2 = await t(request(tokenUrl(), { method: 'POST', headers: { authorization: c.basic } }));
      expect(r2.status).toBe(400);
      expect(r2.json().error).toBe('invalid_request');
    });

    it('a duplicated form parameter → 400 (TK-15)', async () => {
      const c = await confidential(['client_credentials']);
      const r = await token([['grant_type', 'client_credentials'], ['scope', 'api'], ['scope', 'other']], { authorization: c.basic });
      expect(r.status).toBe(400);
      expect(r.json().error).toBe('invalid_request');
      const r2 = await token([['grant_type', 'client_credentials'], ['grant_type', 'client_credentials']], { authorization: c.basic });
      expect(r2.status).toBe(400);
    });

    it('GET /oauth/token is refused, not answered with a token (TK-09)', async () => {
      const c = await confidential(['client_credentials']);
      const r = await t(request(`${tokenUrl()}?grant_type=client_credentials&client_id=${c.id}&client_secret=${c.secret}`));
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body).not.toContain('access_token');
    });

    it('two Authorization headers → 400 invalid_request', async () => {
      const c = await confidential(['client_credentials']);
      const r = await t(request(tokenUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: [c.basic, c.basic] },
        body: 'grant_type=client_credentials',
      }));
      expect(r.status).toBe(400);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('client_credentials', () => {
    it('an at+jwt for the client, no refresh token, works at the demo resource', async () => {
      const c = await confidential(['client_credentials']);
      const r = await token({ grant_type: 'client_credentials', scope: 'api' }, { authorization: c.basic });
      expect(r.status).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      const body = r.json();
      expect(body.refresh_token).toBeUndefined();
      expect(body.token_type).toBe('Bearer');
      expect(body.scope).toBe('api');
      expect(decodeSegment(body.access_token, 0).typ).toBe('at+jwt');
      const claims = decodeSegment(body.access_token, 1);
      expect(claims).toMatchObject({ sub: c.id, client_id: c.id, aud: s.settings.accessTokenAudience, iss: s.settings.issuer, scope: 'api' });
      const res = await resource(body.access_token);
      expect(res.status, res.body).toBe(200);
      expect(res.json()).toMatchObject({ sub: c.id, client_id: c.id });
    });

    it('scope narrowing; unknown or unregistered scope → invalid_scope', async () => {
      const c = await confidential(['client_credentials'], { scope: 'api' });
      expect((await ccToken(c)).scope).toBe('api');
      expectError(await token({ grant_type: 'client_credentials', scope: 'nonesuch' }, { authorization: c.basic }), 400, 'invalid_scope');
      expectError(await token({ grant_type: 'client_credentials', scope: 'other' }, { authorization: c.basic }), 400, 'invalid_scope');
      expectError(await token({ grant_type: 'client_credentials', scope: 'api  ' }, { authorization: c.basic }), 400, 'invalid_scope');
      const wide = await confidential(['client_credentials']);
      expect((await ccToken(wide)).scope).toBe('api other');
      expect((await ccToken(wide, 'other')).scope).toBe('other');
    });

    it('a token without scope api → 403 insufficient_scope with a Bearer challenge', async () => {
      const c = await confidential(['client_credentials']);
      const at = (await ccToken(c, 'other')).access_token;
      const r = await resource(at);
      expect(r.status).toBe(403);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(r.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(r.headers['www-authenticate']).toContain('scope="api"');
      expect(r.json().error).toBe('insufficient_scope');
    });

    it('the configured access token ttl is used', async () => {
      const c = await confidential(['client_credentials'], { accessTokenTtl: 30 });
      const body = await ccToken(c);
      expect(body.expires_in).toBe(30);
      const claims = decodeSegment(body.access_token, 1) as { exp: number; iat: number };
      expect(claims.exp - claims.iat).toBe(30);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('password grant', () => {
    it('only for clients registered with it; refresh token only with refresh_token', async () => {
      const u = await user();
      const plain = await confidential(['client_credentials']);
      expectError(await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: plain.basic }), 400, 'unauthorized_client');
      const pwOnly = await confidential(['password']);
      const a = await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: pwOnly.basic });
      expect(a.status, a.body).toBe(200);
      expect(a.json().refresh_token).toBeUndefined();
      expect(decodeSegment(a.json().access_token, 1)).toMatchObject({ sub: u.id, client_id: pwOnly.id });
      const both = await confidential(['password', 'refresh_token']);
      const b = await token({ grant_type: 'password', username: u.username, password: PW, scope: 'api' }, { authorization: both.basic });
      expect(b.status).toBe(200);
      expect(b.json().refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await resource(b.json().access_token)).status).toBe(200);
    });

    it('wrong password → invalid_grant, then throttled → 429', async () => {
      const u = await user();
      const c = await confidential(['password']);
      const wrong = await token({ grant_type: 'password', username: u.username, password: 'wrong password!' }, { authorization: c.basic });
      expectError(wrong, 400, 'invalid_grant');
      const unknown = await token({ grant_type: 'password', username: 'no-such-user', password: 'wrong password!' }, { authorization: c.basic });
      expect(unknown.status).toBe(400);
      expect(unknown.json().error).toBe('invalid_grant');
      let throttled: RawResponse | undefined;
      for (let i = 0; i < 4 && !throttled; i++) {
        const r = await token({ grant_type: 'password', username: u.username, password: 'wrong password!' }, { authorization: c.basic });
        if (r.status === 429) throttled = r;
        else expectError(r, 400, 'invalid_grant');
      }
      expect(throttled, 'a 429 after failures').toBeDefined();
      expect(throttled!.headers['retry-after']).toMatch(/^\d+$/);
      expect(throttled!.headers['cache-control']).toBe('no-store');
      // Even the right password waits while throttled.
      const right = await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic });
      expect(right.status).toBe(429);
      clock.advance(3_600_000); // let the backoff pass for the tests that follow
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('refresh_token grant', () => {
    it('rotates (oauth4webapi); the old token is dead after the grace window', async () => {
      const c = await confidential(['password', 'refresh_token']);
      const u = await user();
      const first = (await token({ grant_type: 'password', username: u.username, password: PW, scope: 'api' }, { authorization: c.basic })).json();
      const client: oauth.Client = { client_id: c.id };
      const res = await oauth.refreshTokenGrantRequest(as, client, oauth.ClientSecretBasic(c.secret), first.refresh_token, INSECURE);
      const second = await oauth.processRefreshTokenResponse(as, client, res);
      expect(second.refresh_token).toBeTruthy();
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(second.scope).toBe('api');
      expect(decodeSegment(second.access_token, 1)).toMatchObject({ sub: u.id, client_id: c.id });
      clock.advance(10_000); // past the 5 s grace
      expectError(await token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }, { authorization: c.basic }), 400, 'invalid_grant');
      // the replay revoked the family: the newest token is dead too
      expectError(await token({ grant_type: 'refresh_token', refresh_token: second.refresh_token! }, { authorization: c.basic }), 400, 'invalid_grant');
    });

    it('a refresh token of client A used by client B → invalid_grant (JW-19)', async () => {
      const a = await confidential(['password', 'refresh_token']);
      const b = await confidential(['password', 'refresh_token']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: a.basic })).json();
      expectError(await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }, { authorization: b.basic }), 400, 'invalid_grant');
    });

    it('scope widening → invalid_scope (JW-20), narrowing works', async () => {
      const c = await confidential(['password', 'refresh_token']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW, scope: 'api' }, { authorization: c.basic })).json();
      expectError(await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token, scope: 'api other' }, { authorization: c.basic }), 400, 'invalid_scope');
      const wide = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json();
      expect(wide.scope).toBe('api other');
      const narrow = await token({ grant_type: 'refresh_token', refresh_token: wide.refresh_token, scope: 'other' }, { authorization: c.basic });
      expect(narrow.status, narrow.body).toBe(200);
      expect(narrow.json().scope).toBe('other');
      expect(decodeSegment(narrow.json().access_token, 1).scope).toBe('other');
      // RFC 6749 §6: the bound is the scope originally granted, so 'api' may come back after a narrowing.
      const again = await token({ grant_type: 'refresh_token', refresh_token: narrow.json().refresh_token, scope: 'api' }, { authorization: c.basic });
      expect(again.status, again.body).toBe(200);
    });

    it('an access token (JWT or opaque) presented as refresh_token → invalid_grant (TK-14)', async () => {
      const c = await confidential(['password', 'refresh_token']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json();
      expectError(await token({ grant_type: 'refresh_token', refresh_token: pair.access_token }, { authorization: c.basic }), 400, 'invalid_grant');
      const o = await confidential(['password', 'refresh_token'], { tokenFormat: 'opaque' });
      const op = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: o.basic })).json();
      expect(op.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expectError(await token({ grant_type: 'refresh_token', refresh_token: op.access_token }, { authorization: o.basic }), 400, 'invalid_grant');
      expectError(await token({ grant_type: 'refresh_token' }, { authorization: o.basic }), 400, 'invalid_request');
    });
  });

  // ---------------------------------------------------------------------------------------------
  // On its own server: a successful redemption hung the SQLite server for good (see the report), and
  // must not take the other tests down with it.
  describe('authorization_code grant', { timeout: 10_000 }, () => {
    let shared: S;
    let sharedAs: oauth.AuthorizationServer;
    beforeAll(async () => {
      shared = s;
      sharedAs = as;
      s = await startOne(engine, { clock, flags: { ...FAST_ARGON2, scopes: 'api,other' } });
      as = await discover(s.url);
    }, 60_000);
    afterAll(async () => {
      const mine = s;
      s = shared;
      as = sharedAs;
      await Promise.race([mine.close(), new Promise((r) => setTimeout(r, 2000))]);
    }, 30_000);

    it('redeems with the right verifier (oauth4webapi)', async () => {
      const c = await confidential(['authorization_code', 'refresh_token']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier });
      const client: oauth.Client = { client_id: c.id };
      const params = oauth.validateAuthResponse(as, client, new URLSearchParams({ code, ...(as.authorization_response_iss_parameter_supported ? { iss: as.issuer } : {}) }), oauth.expectNoState);
      const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.ClientSecretBasic(c.secret), params, REDIRECT, verifier, INSECURE);
      const body = await oauth.processAuthorizationCodeResponse(as, client, res);
      expect(body.refresh_token).toBeTruthy();
      expect(decodeSegment(body.access_token, 1)).toMatchObject({ sub: u.id, client_id: c.id, scope: 'api' });
      expect((await resource(body.access_token)).status).toBe(200);
    });

    it('a public client redeems with client_id only', async () => {
      const p = await publicClient(['authorization_code', 'refresh_token']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: p.id, userId: u.id, redirectUri: REDIRECT, verifier });
      const r = await token({ grant_type: 'authorization_code', client_id: p.id, code, redirect_uri: REDIRECT, code_verifier: verifier });
      expect(r.status, r.body).toBe(200);
      expect(r.json().refresh_token).toBeTruthy();
    });

    it('wrong, missing or malformed verifier → invalid_grant (TK-06, TK-08)', async () => {
      const c = await confidential(['authorization_code']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier });
      const base = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT };
      expectError(await token({ ...base, code_verifier: newVerifier() }, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token(base, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token({ ...base, code_verifier: 'short' }, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token({ ...base, code_verifier: verifier + '!' }, { authorization: c.basic }), 400, 'invalid_grant');
      // after failures (not redeemed) the right verifier still works
      const ok = await token({ ...base, code_verifier: verifier }, { authorization: c.basic });
      expect(ok.status, ok.body).toBe(200);
      expect(ok.json().refresh_token).toBeUndefined(); // client has no refresh_token grant
    });

    it('a verifier when no challenge was stored → invalid_grant (PKCE downgrade, TK-07)', async () => {
      const c = await confidential(['authorization_code']);
      const u = await user();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier: null });
      expectError(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: newVerifier() }, { authorization: c.basic }), 400, 'invalid_grant');
    });

    it('wrong or missing redirect_uri → invalid_grant / invalid_request (TK-05)', async () => {
      const c = await confidential(['authorization_code']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier });
      expectError(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT + '/x', code_verifier: verifier }, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token({ grant_type: 'authorization_code', code, redirect_uri: 'https://APP.example.com/cb', code_verifier: verifier }, { authorization: c.basic }), 400, 'invalid_grant');
      const missing = await token({ grant_type: 'authorization_code', code, code_verifier: verifier }, { authorization: c.basic });
      expect(missing.status).toBe(400);
      expect(['invalid_request', 'invalid_grant']).toContain(missing.json().error);
    });

    it('an expired code → invalid_grant (TK-03)', async () => {
      const c = await confidential(['authorization_code']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier });
      clock.advance(60_001);
      expectError(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: c.basic }), 400, 'invalid_grant');
    });

    it("another client's code → invalid_grant, and the code stays usable by its owner (TK-04)", async () => {
      const a = await confidential(['authorization_code']);
      const b = await confidential(['authorization_code']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: a.id, userId: u.id, redirectUri: REDIRECT, verifier });
      expectError(await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: b.basic }), 400, 'invalid_grant');
      expect((await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, { authorization: a.basic })).status).toBe(200);
    });

    /** A code of client `c` for a fresh user, redeemed once (200); returns the form to replay. */
    async function redeemedOnce(c: Awaited<ReturnType<typeof confidential>>) {
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier });
      const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
      const first = await token(form, { authorization: c.basic });
      expect(first.status).toBe(200);
      return { form, first };
    }

    it('second use → invalid_grant and the refresh token of the first use is dead (TK-01)', async () => {
      const c = await confidential(['authorization_code', 'refresh_token']);
      const { form, first } = await redeemedOnce(c);
      expectError(await token(form, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token({ grant_type: 'refresh_token', refresh_token: first.json().refresh_token }, { authorization: c.basic }), 400, 'invalid_grant');
      const ri = await introspect({ token: first.json().refresh_token }, { authorization: c.basic });
      expect(ri.json()).toEqual({ active: false });
    });

    it('second use also kills the opaque access token of the first use (TK-01), even without refresh_token grant', async () => {
      const c = await confidential(['authorization_code'], { tokenFormat: 'opaque' });
      const { form, first } = await redeemedOnce(c);
      expect(first.json().refresh_token).toBeUndefined();
      expect((await introspect({ token: first.json().access_token }, { authorization: c.basic })).json().active).toBe(true);
      expectError(await token(form, { authorization: c.basic }), 400, 'invalid_grant');
      expect((await introspect({ token: first.json().access_token }, { authorization: c.basic })).json()).toEqual({ active: false });
    });

    it('second use: introspection of the JWT access token of the first use says inactive (TK-01)', async () => {
      const c = await confidential(['authorization_code', 'refresh_token']);
      const { form, first } = await redeemedOnce(c);
      expectError(await token(form, { authorization: c.basic }), 400, 'invalid_grant');
      const r = await introspect({ token: first.json().access_token }, { authorization: c.basic });
      expect(r.json()).toEqual({ active: false });
    });

    it('20 parallel redemptions of one code → exactly one 200 (TK-02)', async () => {
      const c = await confidential(['authorization_code', 'refresh_token']);
      const u = await user();
      const verifier = newVerifier();
      const code = await insertCode(s, { clientId: c.id, userId: u.id, redirectUri: REDIRECT, verifier });
      const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier };
      const rs = await Promise.all(Array.from({ length: 20 }, () => token(form, { authorization: c.basic })));
      const statuses = rs.map((r) => r.status);
      expect(statuses.filter((x) => x === 200)).toHaveLength(1);
      expect(statuses.filter((x) => x === 400)).toHaveLength(19);
      for (const r of rs.filter((x) => x.status === 400)) expect(r.json().error).toBe('invalid_grant');
      // the losers were replays: the winner's refresh token is revoked (RFC 6749 §4.1.2)
      const winner = rs.find((r) => r.status === 200)!.json();
      expectError(await token({ grant_type: 'refresh_token', refresh_token: winner.refresh_token }, { authorization: c.basic }), 400, 'invalid_grant');
    });

    it('garbage and oversized codes → invalid_grant; missing code → invalid_request', async () => {
      const c = await confidential(['authorization_code']);
      expectError(await token({ grant_type: 'authorization_code', code: 'nope', redirect_uri: REDIRECT }, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token({ grant_type: 'authorization_code', code: 'x'.repeat(5000), redirect_uri: REDIRECT }, { authorization: c.basic }), 400, 'invalid_grant');
      expectError(await token({ grant_type: 'authorization_code', redirect_uri: REDIRECT }, { authorization: c.basic }), 400, 'invalid_request');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('opaque access tokens', () => {
    it('introspect active with scope/client_id/sub; revoked → inactive; the DB holds only the hash', async () => {
      const c = await confidential(['client_credentials'], { tokenFormat: 'opaque' });
      const body = await ccToken(c, 'api');
      const at: string = body.access_token;
      expect(at).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const client: oauth.Client = { client_id: c.id };
      const auth = oauth.ClientSecretBasic(c.secret);
      const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, at, INSECURE));
      expect(info).toMatchObject({ active: true, scope: 'api', client_id: c.id, sub: c.id, token_type: 'Bearer', iss: s.settings.issuer });
      const rows = await s.g.store.db.selectFrom('access_tokens').selectAll().execute();
      expect(rows.some((r) => r.token_hash === hashToken(at))).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(at);
      // the demo resource looks opaque tokens up: 200 while active, 401 invalid_token once revoked
      expect((await resource(at)).status).toBe(200);
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, at, INSECURE));
      const after = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, at, INSECURE));
      expect(after).toEqual({ active: false });
      expect((await resource(at)).status).toBe(401);
    });

    it('a user opaque token introspects with sub = user id and username', async () => {
      const c = await confidential(['password'], { tokenFormat: 'opaque' });
      const u = await user();
      const body = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json();
      const info = (await introspect({ token: body.access_token }, { authorization: c.basic })).json();
      expect(info).toMatchObject({ active: true, sub: u.id, username: u.username, client_id: c.id });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('introspection (RFC 7662)', () => {
    it('a JWT access token is active; expired → {active:false} only', async () => {
      const rs = await confidential(['client_credentials']);
      const c = await confidential(['client_credentials'], { accessTokenTtl: 10 });
      const at = (await ccToken(c)).access_token;
      const client: oauth.Client = { client_id: rs.id };
      const info = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, oauth.ClientSecretPost(rs.secret), at, INSECURE));
      expect(info).toMatchObject({ active: true, client_id: c.id, sub: c.id, scope: 'api other', iss: s.settings.issuer, aud: s.settings.accessTokenAudience });
      expect(typeof info.jti).toBe('string');
      clock.advance(10 * 60_000);
      const r = await introspect({ token: at }, { authorization: rs.basic });
      expect(r.status).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.json()).toEqual({ active: false });
    });

    it('a forged JWT reusing a real jti (other key) → inactive (TK-18)', async () => {
      const c = await confidential(['client_credentials']);
      const at = (await ccToken(c)).access_token;
      const header = decodeSegment(at, 0);
      const payload = decodeSegment(at, 1);
      const key = await attackerKey('ES256');
      const forged = await forge({ ...header, alg: 'ES256', kid: header.kid }, { ...payload, scope: 'api other', exp: (payload.exp as number) + 3600 }, key.privateKey);
      const r = await introspect({ token: forged }, { authorization: c.basic });
      expect(r.json()).toEqual({ active: false });
      const r2 = await introspect({ token: at.slice(0, -4) + (at.endsWith('AAAA') ? 'BBBB' : 'AAAA') }, { authorization: c.basic });
      expect(r2.json()).toEqual({ active: false });
      expect((await introspect({ token: 'garbage' }, { authorization: c.basic })).json()).toEqual({ active: false });
      expect((await introspect({ token: 'x'.repeat(43) }, { authorization: c.basic })).json()).toEqual({ active: false });
    });

    it('a public client, or no client, cannot introspect (401)', async () => {
      const c = await confidential(['client_credentials']);
      const at = (await ccToken(c)).access_token;
      const p = await publicClient(['refresh_token']);
      const r = await introspect({ token: at, client_id: p.id });
      expectError(r, 401, 'invalid_client');
      expect(r.headers['www-authenticate']).toMatch(/^Basic /);
      expectError(await introspect({ token: at }), 401, 'invalid_client');
      expectError(await introspect({ token: at }, { authorization: clientBasic(c.id, 'bad') }), 401, 'invalid_client');
      const json = await t(request(`${s.url}/oauth/introspect`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: c.basic }, body: JSON.stringify({ token: at }) }));
      expectError(json, 400, 'invalid_request');
      expectError(await introspect({}, { authorization: c.basic }), 400, 'invalid_request');
    });

    it('a refresh token: active for its own client, inactive for another', async () => {
      const a = await confidential(['password', 'refresh_token']);
      const b = await confidential(['client_credentials']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: a.basic })).json();
      const own = (await introspect({ token: pair.refresh_token }, { authorization: a.basic })).json();
      expect(own).toMatchObject({ active: true, client_id: a.id, sub: u.id, username: u.username, scope: 'api other' });
      expect((await introspect({ token: pair.refresh_token }, { authorization: b.basic })).json()).toEqual({ active: false });
    });

    it('a disabled user’s access token introspects inactive', async () => {
      const c = await confidential(['password']);
      const u = await user();
      const at = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json().access_token;
      expect((await introspect({ token: at }, { authorization: c.basic })).json().active).toBe(true);
      await s.g.accounts.setDisabled(u.username, true);
      expect((await introspect({ token: at }, { authorization: c.basic })).json()).toEqual({ active: false });
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('revocation (RFC 7009)', () => {
    it('revoking a refresh token kills its family (oauth4webapi)', async () => {
      const c = await confidential(['password', 'refresh_token']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json();
      const rotated = (await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }, { authorization: c.basic })).json();
      const client: oauth.Client = { client_id: c.id };
      const res = await oauth.revocationRequest(as, client, oauth.ClientSecretBasic(c.secret), pair.refresh_token, INSECURE);
      expect(res.headers.get('cache-control')).toBe('no-store');
      await oauth.processRevocationResponse(res);
      // the old (already used) token named the family: the current one is dead too
      expectError(await token({ grant_type: 'refresh_token', refresh_token: rotated.refresh_token }, { authorization: c.basic }), 400, 'invalid_grant');
    });

    it('unknown token → 200; a JWT access token revoked → introspection inactive', async () => {
      const c = await confidential(['client_credentials']);
      expect((await revoke({ token: 'x'.repeat(43) }, { authorization: c.basic })).status).toBe(200);
      expect((await revoke({ token: 'not a token at all' }, { authorization: c.basic })).status).toBe(200);
      expect((await revoke({ token: 'x', token_type_hint: 'refresh_token' }, { authorization: c.basic })).status).toBe(200);
      const at = (await ccToken(c)).access_token;
      expect((await revoke({ token: at, token_type_hint: 'access_token' }, { authorization: c.basic })).status).toBe(200);
      expect((await introspect({ token: at }, { authorization: c.basic })).json()).toEqual({ active: false });
      // revoking twice is fine
      expect((await revoke({ token: at }, { authorization: c.basic })).status).toBe(200);
      expectError(await revoke({ token: at }), 401, 'invalid_client');
      expectError(await revoke({}, { authorization: c.basic }), 400, 'invalid_request');
    });

    it("another client's tokens → 200 but not revoked (TK-17)", async () => {
      const a = await confidential(['password', 'refresh_token']);
      const b = await confidential(['client_credentials']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: a.basic })).json();
      expect((await revoke({ token: pair.refresh_token }, { authorization: b.basic })).status).toBe(200);
      expect((await revoke({ token: pair.access_token }, { authorization: b.basic })).status).toBe(200);
      expect((await introspect({ token: pair.access_token }, { authorization: a.basic })).json().active).toBe(true);
      const next = await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }, { authorization: a.basic });
      expect(next.status, next.body).toBe(200);
      // opaque, too
      const o = await confidential(['client_credentials'], { tokenFormat: 'opaque' });
      const oat = (await ccToken(o)).access_token;
      expect((await revoke({ token: oat }, { authorization: b.basic })).status).toBe(200);
      expect((await introspect({ token: oat }, { authorization: o.basic })).json().active).toBe(true);
    });

    it('a public client revokes its own refresh token with client_id only', async () => {
      const p = await publicClient(['password', 'refresh_token']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', client_id: p.id, username: u.username, password: PW })).json();
      const client: oauth.Client = { client_id: p.id, token_endpoint_auth_method: 'none' };
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), pair.refresh_token, INSECURE));
      expectError(await token({ grant_type: 'refresh_token', client_id: p.id, refresh_token: pair.refresh_token }), 400, 'invalid_grant');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('client removal and secret rotation', () => {
    it('a removed client: invalid_client everywhere, its refresh token dead (CA-13)', async () => {
      const c = await confidential(['password', 'refresh_token']);
      const rs = await confidential(['client_credentials']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json();
      await s.g.clients.remove(c.id);
      expectError(await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }, { authorization: c.basic }), 401, 'invalid_client');
      expectError(await revoke({ token: pair.refresh_token }, { authorization: c.basic }), 401, 'invalid_client');
      expect((await introspect({ token: pair.refresh_token }, { authorization: rs.basic })).json()).toEqual({ active: false });
    });

    it('a removed client: its access tokens introspect inactive, and a client added later under its id inherits nothing (CA-13)', async () => {
      const rs = await confidential(['client_credentials']);
      const c = await confidential(['password', 'refresh_token', 'client_credentials']);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW }, { authorization: c.basic })).json();
      const jwt = (await ccToken(c)).access_token as string;
      const o = await confidential(['client_credentials'], { tokenFormat: 'opaque' });
      const opaque = (await ccToken(o)).access_token as string;
      for (const at of [pair.access_token, jwt]) expect((await introspect({ token: at }, { authorization: rs.basic })).json().active).toBe(true);
      await s.g.clients.remove(c.id);
      await s.g.clients.remove(o.id);
      for (const at of [pair.access_token, jwt, opaque]) expect((await introspect({ token: at }, { authorization: rs.basic })).json()).toEqual({ active: false });
      expect((await resource(opaque)).status).toBe(401);
      // The same id again, with a new secret: the old refresh token does not come back to life.
      const again = await confidential(['password', 'refresh_token'], {}, c.id);
      expectError(await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }, { authorization: again.basic }), 400, 'invalid_grant');
    });

    it('refuses to register the JWT login\'s own client id', async () => {
      await expect(s.g.clients.create({ clientId: 'gatehouse-login', grantTypes: ['client_credentials'] })).rejects.toThrow(/reserved/);
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('empty parameters (RFC 6749 §3.2: sent without a value = omitted)', () => {
    it('scope=, client_secret= and client_id= alongside Basic, and code_verifier= are ignored', async () => {
      const c = await confidential(['client_credentials', 'password', 'refresh_token']);
      expect((await token({ grant_type: 'client_credentials', scope: '' }, { authorization: c.basic })).status).toBe(200);
      expect((await token({ grant_type: 'client_credentials', client_secret: '', client_id: '' }, { authorization: c.basic })).status).toBe(200);
      const u = await user();
      const pair = (await token({ grant_type: 'password', username: u.username, password: PW, scope: '' }, { authorization: c.basic })).json();
      expect((await token({ grant_type: 'refresh_token', refresh_token: pair.refresh_token, scope: '' }, { authorization: c.basic })).status).toBe(200);
      expect((await introspect({ token: pair.access_token, token_type_hint: '' }, { authorization: c.basic })).json().active).toBe(true);
      expectError(await token({ grant_type: '' }, { authorization: c.basic }), 400, 'invalid_request');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('CLI', () => {
    async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      let stdout = '';
      let stderr = '';
      const io: Io = { out: (x) => void (stdout += x), err: (x) => void (stderr += x), readStdin: () => '', stdinIsTty: false };
      const code = await main([...args, '--database-url', s.db.url, '--data-dir', s.db.dataDir, '--secret-key', s.db.secretKey, '--log-level', 'silent'], io);
      return { code, stdout, stderr };
    }

    it('client add prints a secret that works; rotate-secret makes the old one fail', async () => {
      const id = uid('svc');
      const add = await cli(['client', 'add', id, '--grant', 'client_credentials', '--json']);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stderr).toBe('');
      const out = JSON.parse(add.stdout);
      expect(out).toMatchObject({ clientId: id, type: 'confidential', grantTypes: ['client_credentials'] });
      expect(out.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(add.stdout).not.toMatch(/secret_hash/);
      const old = out.client_secret as string;
      expect((await token({ grant_type: 'client_credentials' }, { authorization: clientBasic(id, old) })).status).toBe(200);
      const rot = await cli(['client', 'rotate-secret', id, '--json']);
      expect(rot.code, rot.stderr).toBe(0);
      const fresh = JSON.parse(rot.stdout).client_secret as string;
      expect(fresh).not.toBe(old);
      expectError(await token({ grant_type: 'client_credentials' }, { authorization: clientBasic(id, old) }), 401, 'invalid_client');
      expect((await token({ grant_type: 'client_credentials' }, { authorization: clientBasic(id, fresh) })).status).toBe(200);
    });

    it('client add --grant password warns on stderr; --public with client_credentials exits 1', async () => {
      const pw = await cli(['client', 'add', uid('x'), '--grant', 'password']);
      expect(pw.code).toBe(0);
      expect(pw.stderr).toMatch(/warning: .*password/);
      const bad = await cli(['client', 'add', uid('x'), '--public', '--grant', 'client_credentials']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/public/);
      expect(bad.stdout).toBe('');
    });
  });

  // ---------------------------------------------------------------------------------------------
  describe('every response', () => {
    it('had Cache-Control: no-store (token, revoke, introspect) and none was a 5xx', () => {
      expect(seen.length).toBeGreaterThan(50);
      for (const r of seen) expect(r.status, r.body).toBeLessThan(500);
      const oauthish = seen.filter((r) => r.headers['content-type']?.startsWith('application/json') && /"(access_token|error|active)"/.test(r.body) && !r.headers['www-authenticate']?.startsWith('Bearer'));
      for (const r of oauthish) expect(r.headers['cache-control'], r.body).toBe('no-store');
    });
  });
});


describeEachEngine('oauth endpoints that take a client secret, over plain HTTP', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startOne(engine, { flags: { ...FAST_ARGON2, 'trust-proxy': true } });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  it('the token, revocation and introspection endpoints answer a remote client over plain HTTP with 403 insecure_transport', async () => {
    const { secret } = await s.g.clients.create({ clientId: 'remote', grantTypes: ['client_credentials'] });
    const auth = clientBasic('remote', secret!);
    const remote = { authorization: auth, 'x-forwarded-for': '203.0.113.9' };
    const at = (await post(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: auth })).json().access_token as string;
    for (const [path, fields] of [['/oauth/token', { grant_type: 'client_credentials' }], ['/oauth/revoke', { token: at }], ['/oauth/introspect', { token: at }]] as const) {
      const r = await post(`${s.url}${path}`, fields, remote);
      expect(r.status, path).toBe(403);
      expect(r.json(), path).toMatchObject({ error: 'insecure_transport' });
      expect((await post(`${s.url}${path}`, fields, { ...remote, 'x-forwarded-proto': 'https' })).status, path).toBe(200);
    }
  });
});
