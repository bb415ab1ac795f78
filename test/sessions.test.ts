// Cookie sessions over real HTTP, on both engines: catalogue §4.9 (SS-01..SS-09) and R-10 (sessions
// survive a restart). POST /session/login, GET /api/session/resources, POST /session/logout.
// Time moves only through a ManualClock; each test has its own database and server. Assertions on
// what is stored read the database through Kysely (s.g.store.db).
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine, type EngineName } from './support/engines.js';
import { request, type RawResponse } from './support/http.js';
import { PW, postForm, postJson } from './support/jwt-login.js';
import { createTestDatabase, startOne, startServer, type TestServer } from './support/server.js';

type Flags = Record<string, string | boolean>;

const PLAIN = 'gatehouse_session';
const SECURE = '__Host-gatehouse_session';
const EVIL = 'https://evil.example';
const LOGIN = '/session/login';
const LOGOUT = '/session/logout';
const RESOURCE = '/api/session/resources';
/** What a request through a TLS-terminating proxy carries (honoured only with trust-proxy). */
const VIA_HTTPS = { 'x-forwarded-proto': 'https' };

interface ParsedCookie {
  name: string;
  value: string;
  /** The attributes as sent, e.g. ['Max-Age=43200', 'Path=/', 'HttpOnly', 'SameSite=Lax']. */
  attributes: string[];
}

interface Session {
  res: RawResponse;
  id: string;
  csrf: string;
  cookie: ParsedCookie;
}

/** One database, one server with alice (and bob), a ManualClock; everything closed afterwards. */
async function withServer(engine: EngineName, flags: Flags, fn: (s: TestServer, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const s = await startOne(engine, { clock, flags: { ...FAST_ARGON2, ...flags } });
  try {
    await s.addUser('alice', PW);
    await s.addUser('bob', PW);
    await fn(s, clock);
  } finally {
    await s.close();
  }
}

function parseSetCookie(line: string): ParsedCookie {
  const [pair, ...attributes] = line.split(';').map((p) => p.trim());
  const eq = pair!.indexOf('=');
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}

/** The only Set-Cookie of a response, parsed. */
function onlyCookie(r: RawResponse): ParsedCookie {
  const lines = r.all('set-cookie');
  expect(lines).toHaveLength(1);
  return parseSetCookie(lines[0]!);
}

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('base64url');
}

/** POST /session/login (JSON); returns whatever came back. */
function loginRaw(s: TestServer, headers: Record<string, string> = {}, username = 'alice', password = PW): Promise<RawResponse> {
  return postJson(`${s.url}${LOGIN}`, { username, password }, headers);
}

/** A successful login; fails the test otherwise. */
async function login(s: TestServer, options: { headers?: Record<string, string>; username?: string; password?: string } = {}): Promise<Session> {
  const res = await loginRaw(s, options.headers, options.username, options.password);
  expect(res.status, res.body).toBe(200);
  const cookie = onlyCookie(res);
  return { res, id: cookie.value, csrf: res.json().csrf_token as string, cookie };
}

/** GET the session resource with this session id (or no cookie at all). */
function resource(s: TestServer, id?: string, headers: Record<string, string> = {}, name = PLAIN): Promise<RawResponse> {
  return request(`${s.url}${RESOURCE}`, { headers: id === undefined ? headers : { ...headers, cookie: `${name}=${id}` } });
}

async function expectAlive(s: TestServer, id: string, username = 'alice'): Promise<RawResponse> {
  const r = await resource(s, id);
  expect(r.status, r.body).toBe(200);
  expect(r.json()).toMatchObject({ scheme: 'Session', user: { username } });
  return r;
}

async function expectDead(s: TestServer, id: string): Promise<void> {
  const r = await resource(s, id);
  expect(r.status, r.body).toBe(401);
  expect(r.all('www-authenticate')).toEqual([`Cookie realm="gatehouse", form-action="/session/login", cookie-name="${PLAIN}"`]);
  expect(r.json()).toMatchObject({ error: 'unauthorized' });
}

/** POST /session/logout with a session cookie; the CSRF token goes in the header, or in a form field. */
function logout(s: TestServer, id: string | undefined, options: { csrf?: string; asField?: boolean; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(id === undefined ? {} : { cookie: `${PLAIN}=${id}` }), ...options.headers };
  if (options.asField) return postForm(`${s.url}${LOGOUT}`, options.csrf === undefined ? {} : { csrf_token: options.csrf }, headers);
  if (options.csrf !== undefined) headers['x-csrf-token'] = options.csrf;
  return request(`${s.url}${LOGOUT}`, { method: 'POST', headers });
}

function expectForbidden(r: RawResponse): void {
  expect(r.status, r.body).toBe(403);
  expect(r.json()).toMatchObject({ error: 'forbidden' });
  expect(r.all('set-cookie')).toEqual([]);
}

function expectSecurityHeaders(r: RawResponse): void {
  expect(r.headers['x-content-type-options']).toBe('nosniff');
  const framing = r.headers['x-frame-options'] === 'DENY' || /frame-ancestors 'none'/.test(String(r.headers['content-security-policy'] ?? ''));
  expect(framing, 'X-Frame-Options: DENY or CSP frame-ancestors \'none\'').toBe(true);
}

async function sessionRows(s: TestServer, username?: string) {
  let q = s.g.store.db.selectFrom('sessions').selectAll();
  if (username !== undefined) {
    const user = await s.g.accounts.find(username);
    q = q.where('user_id', '=', user!.id);
  }
  return q.execute();
}

/** Every row of every table of this database, as text (PostgreSQL: only this test's schema). The
 * table list comes straight from the catalogue: Kysely's introspector reads every schema of the
 * database and fails when another test drops its schema at the same moment. */
async function everyStoredRow(s: TestServer, engine: EngineName): Promise<string[]> {
  const db = s.g.store.db;
  const { rows: tables } =
    engine === 'postgres'
      ? await sql<{ name: string }>`select tablename as name from pg_catalog.pg_tables where schemaname = current_schema()`.execute(db)
      : await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db);
  expect(tables.map((t) => t.name)).toContain('sessions');
  const out: string[] = [];
  for (const t of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(t.name)}`.execute(db);
    for (const row of rows) out.push(`${t.name}: ${JSON.stringify(row)}`);
  }
  return out;
}

const SEC = 1000;

describeEachEngine('cookie sessions', (engine) => {
  it('SS-01: a login with an earlier session cookie gets a new id, and the earlier session is dead', async () => {
    await withServer(engine, {}, async (s) => {
      const first = await login(s);
      await expectAlive(s, first.id);
      const second = await login(s, { headers: { cookie: `${PLAIN}=${first.id}` } });
      expect(second.id).not.toBe(first.id);
      await expectDead(s, first.id);
      await expectAlive(s, second.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(1);
    });
  });

  it('SS-01: a cookie value made up by an attacker and sent at login is not adopted', async () => {
    await withServer(engine, {}, async (s) => {
      for (const planted of ['A'.repeat(43), 'attacker-chosen-session-id', 'x']) {
        const r = await login(s, { headers: { cookie: `${PLAIN}=${planted}` } });
        expect(r.id).not.toBe(planted);
        await expectDead(s, planted);
        await expectAlive(s, r.id);
        expect((await sessionRows(s)).map((row) => row.id_hash)).not.toContain(sha256(planted));
      }
    });
  });

  it('SS-02: over plain HTTP on loopback the cookie is gatehouse_session; HttpOnly; SameSite=Lax; Path=/ (no Secure, no prefix, no Domain)', async () => {
    await withServer(engine, {}, async (s) => {
      const { cookie, res } = await login(s);
      expect(cookie.name).toBe(PLAIN);
      expect([...cookie.attributes].sort()).toEqual(['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Lax']);
      expect(res.headers['cache-control']).toBe('no-store');
      // Without trust-proxy, X-Forwarded-Proto is ignored: still the plain cookie.
      const forwarded = await login(s, { headers: VIA_HTTPS });
      expect(forwarded.cookie.name).toBe(PLAIN);
      expect(forwarded.cookie.attributes).not.toContain('Secure');
    });
  });

  it('SS-02: over HTTPS (trust-proxy + X-Forwarded-Proto) the cookie is __Host-gatehouse_session; Secure; HttpOnly; SameSite=Lax; Path=/', async () => {
    await withServer(engine, { 'trust-proxy': 'true' }, async (s) => {
      const https = s.url.replace(/^http:/, 'https:');
      const { cookie, csrf } = await login(s, { headers: { ...VIA_HTTPS, origin: https } });
      expect(cookie.name).toBe(SECURE);
      expect([...cookie.attributes].sort()).toEqual(['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Lax', 'Secure']);
      expect(cookie.attributes.some((a) => /^domain=/i.test(a))).toBe(false);
      // The secure cookie is what identifies the session over HTTPS; the plain name does not.
      const ok = await resource(s, cookie.value, VIA_HTTPS, SECURE);
      expect(ok.status).toBe(200);
      const wrongName = await resource(s, cookie.value, VIA_HTTPS, PLAIN);
      expect(wrongName.status).toBe(401);
      expect(wrongName.all('www-authenticate')).toEqual([`Cookie realm="gatehouse", form-action="/session/login", cookie-name="${SECURE}"`]);
      // An http:// Origin is not this (https) origin.
      expectForbidden(await loginRaw(s, { ...VIA_HTTPS, origin: s.url }));
      // Logout clears the __Host- cookie with the same attributes (a browser ignores a __Host- cookie without Secure).
      const out = await request(`${s.url}${LOGOUT}`, { method: 'POST', headers: { ...VIA_HTTPS, origin: https, cookie: `${SECURE}=${cookie.value}`, 'x-csrf-token': csrf } });
      expect(out.status, out.body).toBe(200);
      const cleared = onlyCookie(out);
      expect(cleared.name).toBe(SECURE);
      expect(cleared.value).toBe('');
      expect(cleared.attributes).toEqual(expect.arrayContaining(['Max-Age=0', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']));
      expect((await resource(s, cookie.value, VIA_HTTPS, SECURE)).status).toBe(401);
    });
  });

  it('SS-03: the id is ≥43 base64url characters (≥256 bits) and only its SHA-256 is stored', async () => {
    await withServer(engine, {}, async (s) => {
      const { id } = await login(s);
      expect(id).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(32);
      const rows = await sessionRows(s, 'alice');
      expect(rows).toHaveLength(1);
      expect(rows[0]!.id_hash).toBe(sha256(id));
      const stored = await everyStoredRow(s, engine);
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.filter((row) => row.includes(id))).toEqual([]);
    });
  });

  it('SS-04: logout deletes the session row, clears the cookie, and the replayed cookie is refused', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const r = await logout(s, a.id, { csrf: a.csrf, headers: { origin: s.url } });
      expect(r.status, r.body).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      const cleared = onlyCookie(r);
      expect(cleared.name).toBe(PLAIN);
      expect(cleared.value).toBe('');
      expect(cleared.attributes).toContain('Max-Age=0');
      expect(cleared.attributes).not.toContain('Secure');
      expect(await sessionRows(s, 'alice')).toHaveLength(0);
      await expectDead(s, a.id);
      // Logging out again (or without any session) is harmless: 200 and the cookie cleared.
      const again = await logout(s, a.id, { csrf: a.csrf });
      expect(again.status).toBe(200);
      expect(onlyCookie(again).attributes).toContain('Max-Age=0');
      const none = await logout(s, undefined);
      expect(none.status).toBe(200);
      expect(onlyCookie(none).attributes).toContain('Max-Age=0');
    });
  });

  it('SS-05: a session unused for the idle time ends (ManualClock)', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const a = await login(s);
      clock.advance(1799 * SEC);
      await expectAlive(s, a.id);
      clock.advance(1800 * SEC);
      await expectDead(s, a.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(0);
      // Another session, left alone from the start.
      const b = await login(s);
      clock.advance(1800 * SEC);
      await expectDead(s, b.id);
    });
  });

  it('SS-05: use before the idle time keeps a session alive, but never past the absolute timeout', async () => {
    await withServer(engine, { 'session-idle-ttl': '600', 'session-absolute-ttl': '3600' }, async (s, clock) => {
      const loginAt = clock.now();
      const a = await login(s);
      expect(a.cookie.attributes).toContain('Max-Age=3600');
      expect(a.res.json().expires_at).toBe(new Date(loginAt + 3600 * SEC).toISOString());
      for (let i = 0; i < 7; i++) {
        clock.advance(500 * SEC); // less than the idle time each step, 3500 s in all
        const r = await expectAlive(s, a.id);
        expect(r.json().session.expiresAt).toBe(new Date(loginAt + 3600 * SEC).toISOString());
      }
      clock.advance(99 * SEC);
      await expectAlive(s, a.id);
      clock.advance(1 * SEC); // exactly the absolute timeout
      await expectDead(s, a.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(0);
    });
  });

  it('SS-06: a password change ends every session of the user at once (and only theirs)', async () => {
    await withServer(engine, {}, async (s) => {
      const a1 = await login(s);
      const a2 = await login(s);
      const b = await login(s, { username: 'bob' });
      await s.g.accounts.setPassword('alice', 'a brand new passphrase');
      await expectDead(s, a1.id);
      await expectDead(s, a2.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(0);
      await expectAlive(s, b.id, 'bob');
      expect((await loginRaw(s)).status).toBe(400);
      await expectAlive(s, (await login(s, { password: 'a brand new passphrase' })).id);
    });
  });

  it('SS-07: disabling a user ends their sessions at once; enabling again does not revive them', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const b = await login(s, { username: 'bob' });
      await s.g.accounts.setDisabled('alice', true);
      await expectDead(s, a.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(0);
      const refused = await loginRaw(s);
      expect(refused.status).toBe(400);
      expect(refused.json()).toMatchObject({ error: 'invalid_grant' });
      expect(refused.all('set-cookie')).toEqual([]);
      await s.g.accounts.setDisabled('alice', false);
      await expectDead(s, a.id);
      await expectAlive(s, b.id, 'bob');
    });
  });

  it('SS-07: removing a user ends their sessions and deletes the rows', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const b = await login(s, { username: 'bob' });
      const aliceId = (await s.g.accounts.find('alice'))!.id;
      await s.g.accounts.remove('alice');
      await expectDead(s, a.id);
      expect(await s.g.store.db.selectFrom('sessions').selectAll().where('user_id', '=', aliceId).execute()).toHaveLength(0);
      expect((await loginRaw(s)).status).toBe(400);
      await expectAlive(s, b.id, 'bob');
    });
  });

  it('login: bad credentials → 400 invalid_grant without a cookie; repeated failures → 429', async () => {
    await withServer(engine, {}, async (s) => {
      const bad = await loginRaw(s, {}, 'alice', 'not the right password');
      expect(bad.status).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'invalid_grant' });
      expect(bad.all('set-cookie')).toEqual([]);
      const unknown = await loginRaw(s, {}, 'nobody', PW);
      expect(unknown.status).toBe(400);
      expect(unknown.json()).toEqual(bad.json());
      let last = bad;
      for (let i = 0; i < 10 && last.status !== 429; i++) last = await loginRaw(s, {}, 'alice', 'not the right password');
      expect(last.status).toBe(429);
      expect(last.headers['retry-after']).toMatch(/^[1-9]\d*$/);
      const blocked = await loginRaw(s);
      expect(blocked.status).toBe(429);
      expect(blocked.all('set-cookie')).toEqual([]);
      expect(await sessionRows(s)).toHaveLength(0);
    });
  });

  it('SS-08: login CSRF — a foreign Origin or Sec-Fetch-Site cross-site/same-site is refused without a cookie', async () => {
    await withServer(engine, {}, async (s) => {
      expectForbidden(await loginRaw(s, { origin: EVIL }));
      expectForbidden(await loginRaw(s, { origin: 'null' }));
      expectForbidden(await loginRaw(s, { origin: s.url.replace('127.0.0.1', 'localhost') }));
      expectForbidden(await loginRaw(s, { origin: s.url.replace(/:\d+$/, ':1') }));
      expectForbidden(await loginRaw(s, { 'sec-fetch-site': 'cross-site' }));
      expectForbidden(await loginRaw(s, { 'sec-fetch-site': 'same-site' }));
      expectForbidden(await postForm(`${s.url}${LOGIN}`, { username: 'alice', password: PW }, { origin: EVIL }));
      // A CORS-safelisted text/plain POST, the kind a foreign page can send without a preflight.
      expectForbidden(await request(`${s.url}${LOGIN}`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: EVIL }, body: JSON.stringify({ username: 'alice', password: PW }) }));
      expect(await sessionRows(s)).toHaveLength(0);
    });
  });

  it('SS-08: login from the same origin (JSON or form) or without Origin (curl) → 200 with a cookie', async () => {
    await withServer(engine, {}, async (s) => {
      const json = await login(s, { headers: { origin: s.url, 'sec-fetch-site': 'same-origin' } });
      expect(json.res.json()).toMatchObject({ user: { username: 'alice' }, csrf_token: expect.any(String), expires_at: expect.any(String) });
      const form = await postForm(`${s.url}${LOGIN}`, { username: 'alice', password: PW }, { origin: s.url });
      expect(form.status, form.body).toBe(200);
      expect(onlyCookie(form).name).toBe(PLAIN);
      await login(s); // no Origin, no Sec-Fetch-*: not from a browser page
      await login(s, { headers: { 'sec-fetch-site': 'none' } }); // typed into the address bar / bookmark
      expect(await sessionRows(s, 'alice')).toHaveLength(4);
    });
  });

  it('logout CSRF: without the token, with a wrong token, or from a foreign Origin → 403 and the session lives on', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      expectForbidden(await logout(s, a.id, { headers: { origin: s.url } }));
      expectForbidden(await logout(s, a.id));
      expectForbidden(await logout(s, a.id, { csrf: '' }));
      expectForbidden(await logout(s, a.id, { csrf: a.csrf.slice(0, -1) + (a.csrf.endsWith('A') ? 'B' : 'A') }));
      expectForbidden(await logout(s, a.id, { csrf: 'abc' }));
      expectForbidden(await logout(s, a.id, { csrf: 'x'.repeat(500) }));
      expectForbidden(await logout(s, a.id, { csrf: a.csrf, headers: { origin: EVIL } }));
      expectForbidden(await logout(s, a.id, { csrf: a.csrf, asField: true, headers: { origin: EVIL } }));
      expectForbidden(await logout(s, a.id, { csrf: a.csrf, headers: { 'sec-fetch-site': 'cross-site' } }));
      expectForbidden(await logout(s, a.id, { csrf: a.id })); // the session id is not the CSRF token
      await expectAlive(s, a.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(1);
    });
  });

  it('logout CSRF: the token works in the X-CSRF-Token header and as the csrf_token form field', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const b = await login(s);
      // The token the resource reports is the one the login gave.
      expect((await expectAlive(s, a.id)).json().csrf_token).toBe(a.csrf);
      const byHeader = await logout(s, a.id, { csrf: a.csrf, headers: { origin: s.url } });
      expect(byHeader.status, byHeader.body).toBe(200);
      await expectDead(s, a.id);
      const byField = await logout(s, b.id, { csrf: b.csrf, asField: true, headers: { origin: s.url } });
      expect(byField.status, byField.body).toBe(200);
      await expectDead(s, b.id);
    });
  });

  it('logout CSRF: the token of session A does not log out session B (same user or another)', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const a2 = await login(s);
      const b = await login(s, { username: 'bob' });
      expect(new Set([a.csrf, a2.csrf, b.csrf]).size).toBe(3);
      expectForbidden(await logout(s, b.id, { csrf: a.csrf, headers: { origin: s.url } }));
      expectForbidden(await logout(s, a2.id, { csrf: a.csrf, headers: { origin: s.url } }));
      expectForbidden(await logout(s, a2.id, { csrf: b.csrf, asField: true }));
      await expectAlive(s, a.id);
      await expectAlive(s, a2.id);
      await expectAlive(s, b.id, 'bob');
    });
  });

  it('SS-09: GET does not log in or out', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const out = await request(`${s.url}${LOGOUT}?csrf_token=${encodeURIComponent(a.csrf)}`, { headers: { cookie: `${PLAIN}=${a.id}`, 'x-csrf-token': a.csrf } });
      expect([404, 405]).toContain(out.status);
      expect(out.all('set-cookie')).toEqual([]);
      await expectAlive(s, a.id);
      const inn = await request(`${s.url}${LOGIN}?username=alice&password=${encodeURIComponent(PW)}`);
      expect([404, 405]).toContain(inn.status);
      expect(inn.all('set-cookie')).toEqual([]);
      expect(await sessionRows(s, 'alice')).toHaveLength(1);
    });
  });

  it('SS-09: CORS-safelisted cross-origin POSTs to /session/logout (text/plain, form, multipart) are refused', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const post = (contentType: string, body: string, headers: Record<string, string>) =>
        request(`${s.url}${LOGOUT}`, { method: 'POST', headers: { cookie: `${PLAIN}=${a.id}`, 'content-type': contentType, ...headers }, body });
      const text = await post('text/plain', `csrf_token=${a.csrf}`, { origin: EVIL });
      expect([403, 415]).toContain(text.status);
      expect(text.all('set-cookie')).toEqual([]);
      // Even from no Origin at all, a text/plain body is not read as a form.
      const plainNoOrigin = await post('text/plain', `csrf_token=${a.csrf}`, {});
      expect([403, 415]).toContain(plainNoOrigin.status);
      const form = await post('application/x-www-form-urlencoded', `csrf_token=${a.csrf}`, { origin: EVIL });
      expect(form.status).toBe(403);
      const multipart = await post('multipart/form-data; boundary=xyz', `--xyz\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n${a.csrf}\r\n--xyz--\r\n`, { 'sec-fetch-site': 'cross-site' });
      expect([403, 415]).toContain(multipart.status);
      // No CORS grant: a foreign page cannot preflight its way to sending X-CSRF-Token.
      const preflight = await request(`${s.url}${LOGOUT}`, { method: 'OPTIONS', headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-csrf-token' } });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
      await expectAlive(s, a.id);
      expect(await sessionRows(s, 'alice')).toHaveLength(1);
    });
  });

  it('R-10: sessions survive a restart on the same database (same CSRF token, logout still works)', async () => {
    const db = await createTestDatabase(engine);
    const flags = { ...FAST_ARGON2 };
    let server: TestServer | undefined;
    try {
      server = await startServer(db, { flags });
      await server.addUser('alice', PW);
      const a = await login(server);
      await expectAlive(server, a.id);
      await server.close();
      server = undefined;
      server = await startServer(db, { flags });
      const after = await expectAlive(server, a.id);
      expect(after.json().csrf_token).toBe(a.csrf);
      const out = await logout(server, a.id, { csrf: a.csrf, headers: { origin: server.url } });
      expect(out.status, out.body).toBe(200);
      await expectDead(server, a.id);
    } finally {
      await server?.close();
      await db.drop();
    }
  });

  it('SS-11: security headers on login, resource and logout responses (nosniff, no framing, no-store)', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s);
      const responses = [
        a.res,
        await loginRaw(s, { origin: EVIL }),
        await loginRaw(s, {}, 'alice', 'wrong'),
        await resource(s, a.id),
        await resource(s),
        await logout(s, a.id, { csrf: 'wrong' }),
        await logout(s, a.id, { csrf: a.csrf }),
      ];
      for (const r of responses) {
        expectSecurityHeaders(r);
        expect(r.headers['cache-control']).toBe('no-store');
        expect(r.headers['content-type']).toMatch(/^application\/json/);
      }
    });
  });

  it('parallel: 20 concurrent logins of one user make 20 distinct, valid sessions', async () => {
    await withServer(engine, {}, async (s) => {
      const all = await Promise.all(Array.from({ length: 20 }, () => loginRaw(s)));
      for (const r of all) expect(r.status, r.body).toBe(200);
      const ids = all.map((r) => onlyCookie(r).value);
      const csrfs = all.map((r) => r.json().csrf_token as string);
      expect(new Set(ids).size).toBe(20);
      expect(new Set(csrfs).size).toBe(20);
      const rows = await sessionRows(s, 'alice');
      expect(new Set(rows.map((r) => r.id_hash))).toEqual(new Set(ids.map(sha256)));
      const checks = await Promise.all(ids.map((id) => resource(s, id)));
      for (const r of checks) expect(r.status).toBe(200);
    });
  });
});
