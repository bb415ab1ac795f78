// The resource-server toolkit (src/resource/, `gatehouse/resource`) against a real Gatehouse started
// in-process, reached through a counting proxy (test/support/http-proxy.ts) so that every JWKS
// fetch and introspection is seen, and so the authorization server can be made to disappear. The
// three adapters (Fastify, Express, Fetch) are each put in front of the same routes and driven over
// HTTP. Catalogue §4.8: RS-01, RS-02, RS-03, RS-04, RS-05, RS-07, RS-08, RS-09, RS-11 are named in the
// test titles (RS-06 step-up and RS-10 sender-constrained tokens are not features of this toolkit).
import argon2 from 'argon2';
import express from 'express';
import Fastify from 'fastify';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { revokeKey, rotateKeys } from '../src/keys/rotation.js';
import {
  createBasicVerifier,
  createDigestVerifier,
  createResourceServer,
  expressProtect,
  fastifyResource,
  fetchProtect,
  type Authenticated,
  type Requirement,
  type ResourceServer,
  type ResourceServerOptions,
  type Verifier,
} from '../src/resource/index.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { h } from './support/digest-client.js';
import { authInfo, challenges, expectRejected, send } from './support/digest-extra.js';
import { describeEachEngine, type EngineName } from './support/engines.js';
import { attackerKey, forge, forgeText, hs256, serverKey, type Json } from './support/forge.js';
import { CountingProxy } from './support/http-proxy.js';
import { request, type RawResponse } from './support/http.js';
import { PW } from './support/jwt-login.js';
import { clientBasic, post } from './support/oauth.js';
import { startOne, type TestDatabase, type TestServer } from './support/server.js';

const AUD = 'https://notes.example';
const REPORTS = 'https://reports.example';
const SCOPES = `notes:read@${AUD},notes:write@${AUD},reports@${REPORTS},api`;
const JWKS = '/.well-known/jwks.json';
const METADATA = '/.well-known/oauth-authorization-server';
const INTROSPECT = '/oauth/introspect';

interface Client {
  id: string;
  secret: string;
}

/** A Gatehouse behind a counting proxy whose URL is the issuer, with the clients the tests use. */
interface Issuer {
  s: TestServer & { db: TestDatabase };
  proxy: CountingProxy;
  iss: string;
  clock: ManualClock;
  clients: Record<'svc' | 'opaque' | 'short' | 'rs' | 'legacy', Client>;
  close(): Promise<void>;
}

async function startIssuer(engine: EngineName): Promise<Issuer> {
  const clock = new ManualClock();
  const proxy = new CountingProxy();
  const iss = await proxy.start();
  const s = await startOne(engine, { clock, flags: { ...FAST_ARGON2, scopes: SCOPES, issuer: iss } });
  proxy.target = s.url;
  const add = async (clientId: string, extra: Record<string, unknown>): Promise<Client> => {
    const { secret } = await s.g.clients.create({ clientId, grantTypes: ['client_credentials'], ...extra });
    return { id: clientId, secret: secret! };
  };
  const clients = {
    svc: await add('svc', {}),
    opaque: await add('svc-opaque', { tokenFormat: 'opaque' }),
    short: await add('svc-short', { tokenFormat: 'opaque', accessTokenTtl: 10 }),
    rs: await add('notes-api', {}),
    legacy: await add('legacy', { grantTypes: ['password', 'refresh_token'] }),
  };
  await s.addUser('alice', PW);
  return {
    s, proxy, iss, clock, clients,
    close: async () => {
      await s.close();
      await proxy.close();
    },
  };
}

async function ccToken(x: Issuer, c: Client, scope: string): Promise<string> {
  const r = await post(`${x.s.url}/oauth/token`, { grant_type: 'client_credentials', scope }, { authorization: clientBasic(c.id, c.secret) });
  expect(r.status, r.body).toBe(200);
  return r.json().access_token as string;
}

function resourceServer(x: Issuer, o: Partial<ResourceServerOptions> = {}): ResourceServer {
  return createResourceServer({
    issuer: x.iss,
    audience: AUD,
    introspection: { clientId: x.clients.rs.id, clientSecret: x.clients.rs.secret },
    now: () => x.clock.now(),
    ...o,
  });
}

// ---------------------------------------------------------------------------------------------
// The same routes behind each adapter.

interface Route {
  method: 'get' | 'post';
  path: string;
  requirement?: Requirement;
}

const ROUTES: Route[] = [
  { method: 'get', path: '/notes', requirement: { scope: 'notes:read' } },
  { method: 'post', path: '/notes', requirement: { scope: 'notes:write' } },
  { method: 'get', path: '/reports', requirement: { scope: 'reports', audience: REPORTS } },
  { method: 'get', path: '/any' },
];

interface App {
  url: string;
  close(): Promise<void>;
}

type AdapterName = 'fastify' | 'express' | 'fetch';

async function listening(server: http.Server): Promise<App> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function fastifyApp(verifier: Verifier<Authenticated>, routes = ROUTES, hook: 'onRequest' | 'preHandler' = 'onRequest'): Promise<App> {
  const app = Fastify();
  await app.register(fastifyResource, { verifier });
  for (const r of routes) app[r.method](r.path, { [hook]: app.protect(r.requirement) }, async (req) => ({ auth: req.auth }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

async function expressApp(verifier: Verifier<Authenticated>, routes = ROUTES): Promise<App> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  for (const r of routes) app[r.method](r.path, expressProtect(verifier, r.requirement), (req, res) => void res.json({ auth: req.auth }));
  return listening(http.createServer(app));
}

/** The Fetch adapter behind node:http, through a plain Request/Response bridge. */
async function fetchApp(verifier: Verifier<Authenticated>, routes = ROUTES): Promise<App> {
  const handlers = routes.map((r) => ({ ...r, fn: fetchProtect(verifier, r.requirement, (_req, auth) => Response.json({ auth })) }));
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const { port } = server.address() as AddressInfo;
    const method = req.method ?? 'GET';
    const fetchRequest = new Request(`http://127.0.0.1:${port}${req.url}`, { method, headers, ...(method === 'GET' ? {} : { body: Buffer.concat(chunks) }) });
    const handler = handlers.find((x) => x.method.toUpperCase() === method && x.path === (req.url ?? '').split('?')[0]);
    const response = handler ? await handler.fn(fetchRequest) : new Response('{}', { status: 404 });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  return listening(server);
}

const APPS: Record<AdapterName, (v: Verifier<Authenticated>) => Promise<App>> = { fastify: (v) => fastifyApp(v), express: expressApp, fetch: fetchApp };

function get(app: App, path: string, authorization?: string | string[], headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(`${app.url}${path}`, { headers: authorization === undefined ? headers : { ...headers, authorization } });
}

const bearer = (token: string) => `Bearer ${token}`;

function expectChallenge(r: RawResponse, status: number, challenge: string): void {
  expect(r.status, r.body).toBe(status);
  expect(r.all('www-authenticate')).toEqual([challenge]);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['content-type']).toMatch(/^application\/json/);
}

const invalidToken = (description: string) => `Bearer realm="api", error="invalid_token", error_description="${description}"`;

/** A forged token signed with `key`, with claims that default to a valid notes:read token. */
function claims(x: Issuer, extra: Json = {}): Json {
  const now = Math.floor(x.clock.now() / 1000);
  return { iss: x.iss, sub: 'svc', aud: AUD, exp: now + 600, iat: now, jti: `j-${Math.random()}`, client_id: 'svc', scope: 'notes:read', ...extra };
}

// ---------------------------------------------------------------------------------------------

describe('resource-server toolkit', () => {
  let x: Issuer;
  beforeAll(async () => {
    x = await startIssuer('sqlite');
  });
  const apps: App[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await x?.close();
  });
  /** A new resource server (its own caches and counters) behind a new Fastify app. */
  async function fresh(o: Partial<ResourceServerOptions> = {}): Promise<{ rs: ResourceServer; app: App }> {
    const rs = resourceServer(x, o);
    const app = await fastifyApp(rs);
    apps.push(app);
    return { rs, app };
  }

  describe.each(['fastify', 'express', 'fetch'] as const)('the %s adapter', (adapter) => {
    let app: App;
    let rs: ResourceServer;
    const t: Record<string, string> = {};
    beforeAll(async () => {
      rs = resourceServer(x);
      app = await APPS[adapter](rs);
      t.read = await ccToken(x, x.clients.svc, 'notes:read');
      t.write = await ccToken(x, x.clients.svc, 'notes:read notes:write');
      t.api = await ccToken(x, x.clients.svc, 'api');
      t.reports = await ccToken(x, x.clients.svc, 'reports');
      t.opaque = await ccToken(x, x.clients.opaque, 'notes:read');
    });
    afterAll(async () => {
      await app?.close();
    });

    it('RS-01: no token → 401 with a bare challenge (no error code)', async () => {
      const r = await get(app, '/notes');
      expectChallenge(r, 401, 'Bearer realm="api"');
      expect(r.json()).toMatchObject({ error: 'unauthorized' });
    });

    it('RS-05: a JWT with the scope → 200; the route sees iss + sub, the client and the scopes', async () => {
      const r = await get(app, '/notes', bearer(t.read!));
      expect(r.status, r.body).toBe(200);
      expect(r.json().auth).toEqual(expect.objectContaining({ scheme: 'Bearer', format: 'jwt', iss: x.iss, sub: 'svc', clientId: 'svc', aud: AUD, scopes: ['notes:read'] }));
      expect((await get(app, '/any', bearer(t.read!))).status).toBe(200);
    });

    it('an opaque token is checked by introspection → 200', async () => {
      const r = await get(app, '/notes', bearer(t.opaque!));
      expect(r.status, r.body).toBe(200);
      expect(r.json().auth).toEqual(expect.objectContaining({ format: 'opaque', iss: x.iss, sub: 'svc-opaque', clientId: 'svc-opaque', aud: AUD, scopes: ['notes:read'] }));
    });

    it('RS-02: a scope the token lacks → 403 insufficient_scope naming the scope', async () => {
      const r = await request(`${app.url}/notes`, { method: 'POST', headers: { authorization: bearer(t.read!) } });
      expectChallenge(r, 403, 'Bearer realm="api", error="insufficient_scope", error_description="This resource needs scope notes:write.", scope="notes:write"');
      expect(r.json()).toEqual({ error: 'insufficient_scope', error_description: 'This resource needs scope "notes:write".' });
      expect((await request(`${app.url}/notes`, { method: 'POST', headers: { authorization: bearer(t.write!) } })).status).toBe(200);
    });

    it('RS-02: a bad or tampered token → 401 invalid_token', async () => {
      const parts = t.read!.split('.');
      const tampered = `${parts[0]}.${parts[1]}.${Buffer.from(parts[2]!, 'base64url').reverse().toString('base64url')}`;
      expectChallenge(await get(app, '/notes', bearer(tampered)), 401, invalidToken('The access token is invalid.'));
      const junk = await get(app, '/notes', bearer('abc.def.ghi'));
      expect(junk.status).toBe(401);
      expect(junk.all('www-authenticate')[0]).toMatch(/^Bearer realm="api", error="invalid_token", error_description="The access token is malformed/);
    });

    it('RS-02: a malformed request → 400 invalid_request', async () => {
      const r = await get(app, '/notes', 'Bearer two words');
      expectChallenge(r, 400, 'Bearer realm="api", error="invalid_request", error_description="The Authorization header does not hold a bearer token."');
      // Two Authorization lines: refused (the Fetch API joins them into one line, which fails to parse).
      const two = await get(app, '/notes', [bearer(t.read!), bearer(t.read!)]);
      expect(two.status).toBe(400);
      expect(two.json().error).toBe('invalid_request');
    });

    it('RS-03: a token for another audience → 401 invalid_token', async () => {
      expectChallenge(await get(app, '/notes', bearer(t.api!)), 401, invalidToken('The access token is meant for another audience.'));
    });

    it('per-route requirements: a route for another audience and scope', async () => {
      const ok = await get(app, '/reports', bearer(t.reports!));
      expect(ok.status, ok.body).toBe(200);
      expect(ok.json().auth.aud).toBe(REPORTS);
      expectChallenge(await get(app, '/reports', bearer(t.read!)), 401, invalidToken('The access token is meant for another audience.'));
      expectChallenge(await get(app, '/notes', bearer(t.reports!)), 401, invalidToken('The access token is meant for another audience.'));
    });

    it('RS-09: a token in the query string or in a form body is refused', async () => {
      const q = await get(app, `/notes?access_token=${t.read}`);
      expectChallenge(q, 400, 'Bearer realm="api", error="invalid_request", error_description="Send the access token in the Authorization header, not in the URL."');
      const form = await request(`${app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${t.write}` });
      // Express parsed the form before the middleware: 400. Fastify's onRequest hook and the Fetch
      // adapter do not read the body: no token was sent the only accepted way, 401.
      if (adapter === 'express') expect(form.json()).toMatchObject({ error: 'invalid_request' });
      expect(form.status).toBe(adapter === 'express' ? 400 : 401);
    });

    it('RS-11: the scheme name is case-insensitive and extra spaces are accepted', async () => {
      for (const value of [`bearer ${t.read}`, `BEARER ${t.read}`, `Bearer    ${t.read}  `]) {
        const r = await get(app, '/notes', value);
        expect(r.status, value.slice(0, 12)).toBe(200);
      }
    });

    it('never a 500 or a stack trace for bad input', async () => {
      const junk = ['Bearer', 'Bearer ', 'Bearer ====', 'Bearer a.b', 'Bearer a..b', `Bearer ${'a'.repeat(5000)}`, `Bearer ${'x.'.repeat(50)}x`, 'Basic Zm9vOmJhcg==', 'Bearer eyJ.eyJ.eyJ', '\u00ff\u00fe'];
      for (const value of junk) {
        const r = await get(app, '/notes', value);
        expect([400, 401], value.slice(0, 20)).toContain(r.status);
        expect(r.body).not.toMatch(/at .*\.(ts|js):\d+/);
      }
    });
  });

  describe('JWT checks (RFC 9068, RFC 8725)', () => {
    let app: App;
    let rs: ResourceServer;
    beforeAll(async () => {
      rs = resourceServer(x);
      app = await fastifyApp(rs);
      await ccToken(x, x.clients.svc, 'notes:read').then((tok) => get(app, '/notes', bearer(tok))); // keys fetched
    });
    afterAll(async () => {
      await app?.close();
    });
    const header = (extra: Json = {}): Json => {
      const k = serverKey(x.s);
      return { alg: k.alg, kid: k.kid, typ: 'at+jwt', ...extra };
    };
    const signed = (h: Json, c: Json) => forge(h, c, serverKey(x.s).privateKey);
    const call = async (token: string) => get(app, '/notes', bearer(token));

    it('a token we sign with the issuer key and valid claims passes (the forging works)', async () => {
      expect((await call(await signed(header(), claims(x)))).status).toBe(200);
    });

    it('typ must be at+jwt', async () => {
      expectChallenge(await call(await signed(header({ typ: 'JWT' }), claims(x))), 401, invalidToken('The access token is invalid.'));
      expectChallenge(await call(await signed(header({ typ: undefined }), claims(x))), 401, invalidToken('The access token is invalid.'));
    });

    it('iss must be the configured issuer', async () => {
      expectChallenge(await call(await signed(header(), claims(x, { iss: 'https://other.example' }))), 401, invalidToken('The access token was issued by another issuer.'));
    });

    it('RS-03: aud must be an accepted audience, and only one', async () => {
      expectChallenge(await call(await signed(header(), claims(x, { aud: 'https://other.example' }))), 401, invalidToken('The access token is meant for another audience.'));
      expectChallenge(await call(await signed(header(), claims(x, { aud: [AUD, 'https://other.example'] }))), 401, invalidToken('The access token must name exactly one audience.'));
      expect((await call(await signed(header(), claims(x, { aud: [AUD] })))).status).toBe(200);
    });

    it('exp and nbf with the leeway (30 s), iat not in the future', async () => {
      const now = Math.floor(x.clock.now() / 1000);
      expectChallenge(await call(await signed(header(), claims(x, { exp: now - 31 }))), 401, invalidToken('The access token expired.'));
      expect((await call(await signed(header(), claims(x, { exp: now - 10 })))).status).toBe(200);
      expectChallenge(await call(await signed(header(), claims(x, { nbf: now + 60 }))), 401, invalidToken('The access token is not valid yet.'));
      expect((await call(await signed(header(), claims(x, { nbf: now + 10 })))).status).toBe(200);
      expectChallenge(await call(await signed(header(), claims(x, { iat: now + 60 }))), 401, invalidToken('The access token is invalid.'));
      for (const missing of ['exp', 'sub', 'client_id', 'jti', 'iat']) {
        expect((await call(await signed(header(), claims(x, { [missing]: undefined })))).status, missing).toBe(401);
      }
    });

    it('RS-08: an expired token from the issuer is refused once its lifetime and the leeway are over', async () => {
      const token = await ccToken(x, x.clients.svc, 'notes:read');
      expect((await call(token)).status).toBe(200); // now in the verified-token cache
      x.clock.advance((600 + 31) * 1000);
      expectChallenge(await call(token), 401, invalidToken('The access token expired.'));
    });

    it('alg none and HS256 (the public key as an HMAC secret) are refused', async () => {
      const none = `${Buffer.from(JSON.stringify(header({ alg: 'none' }))).toString('base64url')}.${Buffer.from(JSON.stringify(claims(x))).toString('base64url')}.`;
      expectChallenge(await call(none), 401, invalidToken('The access token is malformed: the signature is not base64url.'));
      expectChallenge(await call(`${none}AAAA`), 401, invalidToken('The access token is signed with an algorithm that is not accepted.'));
      const jwkText = JSON.stringify(serverKey(x.s).publicJwk);
      expectChallenge(await call(hs256(header({ alg: 'HS256' }), claims(x), jwkText)), 401, invalidToken('The access token is signed with an algorithm that is not accepted.'));
      expect(() => createResourceServer({ issuer: x.iss, audience: AUD, algorithms: ['HS256'] })).toThrow(/never none or HS/);
      expect(() => createResourceServer({ issuer: x.iss, audience: AUD, algorithms: ['none'] })).toThrow(/never none or HS/);
    });

    it('RS-04: a key of another issuer with the same kid never verifies our tokens', async () => {
      const evil = await attackerKey();
      const kid = serverKey(x.s).kid;
      const before = rs.keys.fetches;
      // Our issuer named, our kid, their key: the signature check fails.
      expectChallenge(await call(await forge(header({ kid }), claims(x), evil.privateKey)), 401, invalidToken('The access token is invalid.'));
      // Their issuer named: refused before any key is looked up (no JWKS fetch either).
      expectChallenge(await call(await forge(header({ kid }), claims(x, { iss: 'https://evil.example' }), evil.privateKey)), 401, invalidToken('The access token was issued by another issuer.'));
      expect(rs.keys.fetches).toBe(before);
    });

    it('jku, x5u and jwk headers are never followed', async () => {
      const evil = await attackerKey();
      const h = header({ kid: evil.kid, jwk: evil.publicJwk, jku: `${x.iss}/evil-jwks.json`, x5u: `${x.iss}/evil-cert.pem` });
      expectChallenge(await call(await forge(h, claims(x), evil.privateKey)), 401, invalidToken('The access token was not signed by a key of the issuer.'));
      // Our kid with their embedded key: still only our key is used.
      expect((await call(await forge(header({ jwk: evil.publicJwk }), claims(x), evil.privateKey))).status).toBe(401);
      expect(x.proxy.count('/evil-jwks.json')).toBe(0);
      expect(x.proxy.count('/evil-cert.pem')).toBe(0);
    });

    it('duplicate members and unknown crit are refused', async () => {
      const key = serverKey(x.s);
      const c = claims(x);
      const dup = await forgeText(JSON.stringify(header()), `${JSON.stringify(c).slice(0, -1)},"sub":"admin"}`, key.privateKey, key.alg);
      expectChallenge(await call(dup), 401, invalidToken('The access token is malformed: the payload names a member twice.'));
      expectChallenge(await call(await signed(header({ crit: ['exp-custom'], 'exp-custom': 1 }), c)), 401, invalidToken('The access token is invalid.'));
    });
  });

  describe('the JWK Set: cached, refetched on an unknown kid with a cooldown', () => {

    it('discovery and the JWKS are fetched once, then served from memory', async () => {
      const jwks = x.proxy.count(JWKS);
      const meta = x.proxy.count(METADATA);
      const { rs, app } = await fresh();
      const tokens = await Promise.all(Array.from({ length: 5 }, () => ccToken(x, x.clients.svc, 'notes:read')));
      for (const tok of [...tokens, ...tokens]) expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      expect(rs.keys.fetches).toBe(1);
      expect(x.proxy.count(JWKS) - jwks).toBe(1);
      expect(x.proxy.count(METADATA) - meta).toBe(1);
    });

    it('after its max age the set is refreshed in the background; requests are served meanwhile', async () => {
      const { rs, app } = await fresh({ jwksMaxAgeSeconds: 300 });
      const tok = await ccToken(x, x.clients.svc, 'notes:read');
      expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      x.clock.advance(301_000);
      const tok2 = await ccToken(x, x.clients.svc, 'notes:read');
      expect((await get(app, '/notes', bearer(tok2))).status).toBe(200);
      await vi.waitFor(() => expect(rs.keys.fetches).toBe(2), { timeout: 5000 });
    });

    it('unknown kids: one refetch, then none during the cooldown (no refetch storm)', async () => {
      const { rs, app } = await fresh({ jwksCooldownSeconds: 10 });
      expect((await get(app, '/notes', bearer(await ccToken(x, x.clients.svc, 'notes:read')))).status).toBe(200);
      expect(rs.keys.fetches).toBe(1);
      const evil = await Promise.all(Array.from({ length: 25 }, () => attackerKey()));
      const forged = await Promise.all(evil.map((k) => forge({ alg: k.alg, kid: k.kid, typ: 'at+jwt' }, claims(x), k.privateKey)));
      const replies = await Promise.all(forged.map((tok) => get(app, '/notes', bearer(tok))));
      for (const r of replies) expectChallenge(r, 401, invalidToken('The access token was not signed by a key of the issuer.'));
      expect(rs.keys.fetches).toBe(2);
      for (const tok of forged.slice(0, 5)) expect((await get(app, '/notes', bearer(tok))).status).toBe(401);
      expect(rs.keys.fetches).toBe(2);
      x.clock.advance(10_000);
      expect((await get(app, '/notes', bearer(forged[0]!))).status).toBe(401);
      expect(rs.keys.fetches).toBe(3);
    });

    it('key rotation (--now): a token signed by the new key triggers one refetch and is accepted; older tokens still verify', async () => {
      const { rs, app } = await fresh();
      const old = await ccToken(x, x.clients.svc, 'notes:read');
      expect((await get(app, '/notes', bearer(old))).status).toBe(200);
      const deps = { store: x.s.g.store, box: x.s.g.box, clock: x.clock, policy: x.s.g.keyPolicy };
      // Twice: the first promotes the published next key (already in the cached set); the second
      // promotes a key published after the resource server fetched the set.
      await rotateKeys(deps, { immediately: true });
      await rotateKeys(deps, { immediately: true });
      await x.s.g.keys.reload();
      const fresh1 = await ccToken(x, x.clients.svc, 'notes:read');
      expect(JSON.parse(Buffer.from(fresh1.split('.')[0]!, 'base64url').toString()).kid).not.toBe(JSON.parse(Buffer.from(old.split('.')[0]!, 'base64url').toString()).kid);
      expect((await get(app, '/notes', bearer(fresh1))).status).toBe(200);
      expect(rs.keys.fetches).toBe(2);
      expect((await get(app, '/notes', bearer(old))).status).toBe(200);
    });

    it('a key removed from the set stops verifying tokens remembered as verified', async () => {
      const { rs, app } = await fresh({ jwksMaxAgeSeconds: 60 });
      const tok = await ccToken(x, x.clients.svc, 'notes:read');
      expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      const kid = JSON.parse(Buffer.from(tok.split('.')[0]!, 'base64url').toString()).kid as string;
      await revokeKey({ store: x.s.g.store, box: x.s.g.box, clock: x.clock, policy: x.s.g.keyPolicy }, kid);
      await x.s.g.keys.reload();
      x.clock.advance(61_000);
      await get(app, '/notes', bearer(tok)); // starts the refresh
      await vi.waitFor(() => expect(rs.keys.fetches).toBe(2), { timeout: 5000 });
      expectChallenge(await get(app, '/notes', bearer(tok)), 401, invalidToken('The access token was not signed by a key of the issuer.'));
    });
  });

  describe('opaque tokens: RFC 7662 introspection', () => {

    it('introspected once as a confidential client, then cached', async () => {
      const { rs, app } = await fresh();
      const before = x.proxy.count(INTROSPECT);
      const tok = await ccToken(x, x.clients.opaque, 'notes:read');
      const replies = await Promise.all(Array.from({ length: 5 }, () => get(app, '/notes', bearer(tok))));
      for (const r of replies) expect(r.status).toBe(200);
      expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      expect(rs.introspections).toBe(1);
      expect(x.proxy.count(INTROSPECT) - before).toBe(1);
    });

    it('the cache never outlives the token (exp bounds it)', async () => {
      const { rs, app } = await fresh({ introspectionCacheSeconds: 3600 });
      const tok = await ccToken(x, x.clients.short, 'notes:read'); // lives 10 s
      expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      x.clock.advance(5_000);
      expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      expect(rs.introspections).toBe(1);
      x.clock.advance(6_000);
      expectChallenge(await get(app, '/notes', bearer(tok)), 401, invalidToken('The access token is not active (expired, revoked or unknown).'));
      expect(rs.introspections).toBe(2);
    });

    it('the cache is bounded in memory (oldest answer out first)', async () => {
      const { rs, app } = await fresh({ introspectionCacheSize: 2 });
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => ccToken(x, x.clients.opaque, 'notes:read')));
      for (const tok of [a!, b!, c!, c!, b!]) expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
      expect(rs.introspections).toBe(3);
      expect((await get(app, '/notes', bearer(a!))).status).toBe(200);
      expect(rs.introspections).toBe(4);
    });

    it('an unknown token → 401; a refresh token active for our client is still not an access token', async () => {
      const { app } = await fresh();
      expectChallenge(await get(app, '/notes', bearer('A'.repeat(43))), 401, invalidToken('The access token is not active (expired, revoked or unknown).'));
      const r = await post(`${x.s.url}/oauth/token`, { grant_type: 'password', username: 'alice', password: PW, scope: 'notes:read' }, { authorization: clientBasic(x.clients.legacy.id, x.clients.legacy.secret) });
      expect(r.status, r.body).toBe(200);
      const refresh = r.json().refresh_token as string;
      // A resource server introspecting as that same client: Gatehouse answers active, token_type refresh_token.
      const { rs: legacy, app: lapp } = await fresh({ introspection: { clientId: x.clients.legacy.id, clientSecret: x.clients.legacy.secret } });
      expectChallenge(await get(lapp, '/notes', bearer(refresh)), 401, invalidToken('The access token is not active (expired, revoked or unknown).'));
      expect(legacy.introspections).toBe(1);
    });

    it('RS-07: wrong introspection credentials → 503, never active', async () => {
      const { app } = await fresh({ introspection: { clientId: x.clients.rs.id, clientSecret: 'wrong' } });
      const r = await get(app, '/notes', bearer(await ccToken(x, x.clients.opaque, 'notes:read')));
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('5');
      expect(r.json().error).toBe('temporarily_unavailable');
    });

    it('without introspection credentials opaque tokens are refused', async () => {
      const { app } = await fresh({ introspection: undefined });
      expectChallenge(await get(app, '/notes', bearer(await ccToken(x, x.clients.opaque, 'notes:read'))), 401, invalidToken('Opaque access tokens are not accepted here.'));
    });
  });

  describe('RS-07: the authorization server unreachable → 503 (fail closed)', () => {
    afterAll(() => x.proxy.set('up'));
    const expect503 = (r: RawResponse) => {
      expect(r.status, r.body).toBe(503);
      expect(r.headers['retry-after']).toBe('5');
      expect(r.headers['www-authenticate']).toBeUndefined();
      expect(r.json()).toMatchObject({ error: 'temporarily_unavailable' });
    };

    it('down: opaque tokens and unknown kids → 503; tokens of cached keys keep working; back up → normal again', async () => {
      const errors: Error[] = [];
      const { app } = await fresh({ onIssuerError: (e) => errors.push(e) });
      const [jwt1, jwt2, opaque] = await Promise.all([ccToken(x, x.clients.svc, 'notes:read'), ccToken(x, x.clients.svc, 'notes:read'), ccToken(x, x.clients.opaque, 'notes:read')]);
      expect((await get(app, '/notes', bearer(jwt1))).status).toBe(200);
      const evil = await attackerKey();
      const unknownKid = await forge({ alg: evil.alg, kid: evil.kid, typ: 'at+jwt' }, claims(x), evil.privateKey);
      x.proxy.set('down');
      try {
        expect503(await get(app, '/notes', bearer(opaque)));
        expect503(await get(app, '/notes', bearer(unknownKid)));
        expect((await get(app, '/notes', bearer(jwt2))).status).toBe(200);
        expect(errors.length).toBeGreaterThan(0);
        expect(errors.map((e) => e.message).join(' ')).not.toContain(opaque);
      } finally {
        x.proxy.set('up');
      }
      x.clock.advance(1_000);
      expect((await get(app, '/notes', bearer(opaque))).status).toBe(200);
      expect((await get(app, '/notes', bearer(unknownKid))).status).toBe(401);
    });

    it('down before the first request (discovery and JWKS unreachable): 503 for every token', async () => {
      const { app } = await fresh();
      const tok = await ccToken(x, x.clients.svc, 'notes:read');
      x.proxy.set('down');
      try {
        expect503(await get(app, '/notes', bearer(tok)));
        x.clock.advance(1_000);
        expect503(await get(app, '/notes', bearer(tok)));
      } finally {
        x.proxy.set('up');
      }
      x.clock.advance(1_000);
      expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
    });

    it('timing out: an introspection that gets no answer → 503 after the timeout', async () => {
      const { app } = await fresh({ timeoutMs: 300 });
      const tok = await ccToken(x, x.clients.opaque, 'notes:read');
      expect((await get(app, '/notes', bearer(await ccToken(x, x.clients.svc, 'notes:read')))).status).toBe(200); // discovery done
      x.proxy.set('stall');
      try {
        expect503(await get(app, '/notes', bearer(tok)));
      } finally {
        x.proxy.set('up');
      }
    });
  });

  describe('RS-09: the query-string token option', () => {
    let app: App;
    let tok: string;
    beforeAll(async () => {
      app = await fastifyApp(resourceServer(x, { allowQueryToken: true }));
      tok = await ccToken(x, x.clients.svc, 'notes:read');
    });
    afterAll(async () => {
      await app?.close();
    });

    it('enabled: ?access_token= is accepted and the response is marked private (RFC 6750 §2.3)', async () => {
      const r = await get(app, `/notes?x=1&access_token=${tok}`);
      expect(r.status, r.body).toBe(200);
      expect(r.headers['cache-control']).toBe('private');
      expect((await get(app, '/notes?x=1', bearer(tok))).status).toBe(200);
    });

    it('enabled: two ways at once, or the parameter twice → 400', async () => {
      expectChallenge(await get(app, `/notes?access_token=${tok}`, bearer(tok)), 400, 'Bearer realm="api", error="invalid_request", error_description="Send the access token one way only."');
      expect((await get(app, `/notes?access_token=${tok}&access_token=${tok}`)).status).toBe(400);
    });
  });
});

describeEachEngine('resource-server toolkit: revoked opaque tokens', (engine) => {
  let x: Issuer;
  let app: App;
  let cached: App;
  beforeAll(async () => {
    x = await startIssuer(engine);
    app = await fastifyApp(resourceServer(x, { introspectionCacheSeconds: 0 }));
    cached = await fastifyApp(resourceServer(x, { introspectionCacheSeconds: 30 }));
  });
  afterAll(async () => {
    await app?.close();
    await cached?.close();
    await x?.close();
  });

  it('a revoked opaque token is refused (at once without a cache, within the cache time with one)', async () => {
    const tok = await ccToken(x, x.clients.opaque, 'notes:read');
    expect((await get(app, '/notes', bearer(tok))).status).toBe(200);
    expect((await get(cached, '/notes', bearer(tok))).status).toBe(200);
    const r = await post(`${x.s.url}/oauth/revoke`, { token: tok }, { authorization: clientBasic(x.clients.opaque.id, x.clients.opaque.secret) });
    expect(r.status).toBe(200);
    expectChallenge(await get(app, '/notes', bearer(tok)), 401, invalidToken('The access token is not active (expired, revoked or unknown).'));
    expect((await get(cached, '/notes', bearer(tok))).status).toBe(200);
    x.clock.advance(30_000);
    expectChallenge(await get(cached, '/notes', bearer(tok)), 401, invalidToken('The access token is not active (expired, revoked or unknown).'));
  });
});

describe('resource-server toolkit: Basic and Digest with the API\'s own users', () => {
  const clock = new ManualClock();
  const apps: App[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });

  describe('Basic (RFC 7617) with a pluggable lookup', () => {
    const users = new Map<string, { passwordHash: string; user: { id: number } }>();
    let lookups = 0;
    let failing = false;
    let app: App;
    let callbackApp: App;
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const hash = (pw: string) => argon2.hash(pw, { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    beforeAll(async () => {
      users.set('ann', { passwordHash: await hash('ann password'), user: { id: 1 } });
      const verifier = createBasicVerifier({
        lookup: async (username) => {
          lookups++;
          if (failing) throw new Error('database down');
          return users.get(username);
        },
        argon2: { memoryCost: 1024, timeCost: 1 },
        now: () => clock.now(),
      });
      app = await expressApp(verifier, [{ method: 'get', path: '/basic' }]);
      const byCallback = createBasicVerifier({ verify: (u, p) => (u === 'bob' && p === 'bob password' ? { name: 'Bob' } : undefined) });
      callbackApp = await fetchApp(byCallback, [{ method: 'get', path: '/basic' }]);
      apps.push(app, callbackApp);
    });

    it('no credentials, a wrong password, an unknown user → 401 with the Basic challenge', async () => {
      for (const auth of [undefined, basic('ann', 'wrong password'), basic('nobody', 'ann password'), 'Basic !!!', 'Bearer x.y.z']) {
        const r = await get(app, '/basic', auth);
        expect(r.status, String(auth)).toBe(401);
        expect(r.all('www-authenticate')).toEqual(['Basic realm="api", charset="UTF-8"']);
      }
    });

    it('the right password → 200 with the lookup\'s user; then served from the credential cache', async () => {
      const r = await get(app, '/basic', basic('ann', 'ann password'));
      expect(r.status, r.body).toBe(200);
      expect(r.json().auth).toEqual({ scheme: 'Basic', username: 'ann', user: { id: 1 } });
      expect((await get(app, '/basic', basic('ann', 'ann password'))).status).toBe(200);
    });

    it('a password change takes effect at once, cache or not', async () => {
      expect((await get(app, '/basic', basic('ann', 'ann password'))).status).toBe(200);
      users.set('ann', { passwordHash: await hash('new password'), user: { id: 1 } });
      expect((await get(app, '/basic', basic('ann', 'ann password'))).status).toBe(401);
      expect((await get(app, '/basic', basic('ann', 'new password'))).status).toBe(200);
    });

    it('a failing lookup → 503, never a 500 and never a "wrong password"', async () => {
      failing = true;
      try {
        const r = await get(app, '/basic', basic('ann', 'new password'));
        expect(r.status).toBe(503);
        expect(r.json().error).toBe('temporarily_unavailable');
      } finally {
        failing = false;
      }
      expect(lookups).toBeGreaterThan(0);
    });

    it('a verify callback instead of a lookup', async () => {
      const ok = await get(callbackApp, '/basic', basic('bob', 'bob password'));
      expect(ok.status, ok.body).toBe(200);
      expect(ok.json().auth).toEqual({ scheme: 'Basic', username: 'bob', user: { name: 'Bob' } });
      expect((await get(callbackApp, '/basic', basic('bob', 'nope'))).status).toBe(401);
    });
  });

  describe('Digest (RFC 7616) with a pluggable lookup', () => {
    const PATH = '/digest';
    let base: string;
    const challengeFor = async (b: string, alg = 'SHA-256') => (await challenges(b, PATH)).find((c) => c.algorithm === alg)!;
    beforeAll(async () => {
      const verifier = createDigestVerifier({
        lookup: (username, { realm, algorithm }) => {
          if (username === 'ann') return { password: 'ann password', user: { id: 1 } };
          if (username === 'bob') return { ha1: h(algorithm, `bob:${realm}:bob password`) };
          return undefined;
        },
        now: () => clock.now(),
      });
      const app = await fastifyApp(verifier, [{ method: 'get', path: PATH }]);
      apps.push(app);
      base = app.url;
    });

    it('challenges: SHA-256 then SHA-512-256, qop auth and auth-int, no userhash (the lookup is by name)', async () => {
      const chs = await challenges(base, PATH);
      expect(chs.map((c) => c.algorithm)).toEqual(['SHA-256', 'SHA-512-256']);
      for (const c of chs) {
        expect(c.realm).toBe('api');
        expect(c.qop).toBe('auth, auth-int');
        expect(c.userhash).toBeUndefined();
      }
    });

    it('the right password (from the password or from a stored H(A1)) → 200 with Authentication-Info', async () => {
      for (const [username, password, alg] of [['ann', 'ann password', 'SHA-256'], ['bob', 'bob password', 'SHA-512-256']] as const) {
        const ch = await challengeFor(base, alg);
        const { r, a } = await send(base, ch, { path: PATH, username, password });
        expect(r.status, r.body).toBe(200);
        expect(r.json().auth).toMatchObject({ scheme: 'Digest', username, algorithm: alg, qop: 'auth' });
        expect(authInfo(r).rspauth).toBe(a.rspauth(''));
      }
    });

    it('a wrong password or unknown user → 401; a replayed nc → 401; a wrong uri → 400', async () => {
      const ch = await challengeFor(base);
      expectRejected((await send(base, ch, { path: PATH, username: 'ann', password: 'wrong' })).r, false);
      expectRejected((await send(base, ch, { path: PATH, username: 'nobody', password: 'x' })).r, false);
      const first = await send(base, ch, { path: PATH, username: 'ann', password: 'ann password', nc: 1, cnonce: 'c1' });
      expect(first.r.status).toBe(200);
      expectRejected((await send(base, ch, { path: PATH, username: 'ann', password: 'ann password', nc: 1, cnonce: 'c1' })).r, false);
      expect((await send(base, ch, { path: PATH, username: 'ann', password: 'ann password', nc: 2 })).r.status).toBe(200);
      const wrongUri = await send(base, ch, { path: PATH, uri: '/elsewhere', username: 'ann', password: 'ann password', nc: 3 });
      expect(wrongUri.r.status).toBe(400);
    });

    it('an expired nonce with the right password → 401 stale=true', async () => {
      const ch = await challengeFor(base);
      clock.advance(301_000);
      expectRejected((await send(base, ch, { path: PATH, username: 'ann', password: 'ann password' })).r, true);
    });
  });
});
