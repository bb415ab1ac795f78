// The JWT login and its rotating refresh-token families over real HTTP, on both engines: catalogue §4.3
// (JW-18 … JW-24), §5.1 R-01 (without a failpoint: the retry after a lost response), R-05 (parallel use of
// one token, on one server and on two servers sharing a database), R-07 (reuse revocation survives a
// restart), R-10 (families and keys survive a restart), and BA-11 (login failures share the throttle with
// Basic). Time moves only through a ManualClock. Each test has its own database; the ones that restart a
// server keep the database (and its secret key) and start a new server on it.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { RotateOutcome } from '../src/tokens/refresh-families.js';
import { describeEachEngine, type EngineName } from './support/engines.js';
import { withServer } from './support/alice-server.js';
import { basic, request, type RawResponse } from './support/http.js';
import { PW, bearer, login, logout, postForm, postJson, refresh, type TokenPair } from './support/jwt-login.js';
import { createTestDatabase, startOne, startServer, type TestDatabase, type TestServer } from './support/server.js';
import { FAST_ARGON2, comparable, getBasic } from './support/basic-extra.js';

type Flags = Record<string, string | boolean>;

const WRONG = 'not the right password';
const NEW_PW = 'a brand new passphrase';
const GRACE_MS = 5_000; // the default --refresh-grace
const DAY_MS = 86_400_000;
const RESOURCE = '/api/jwt/resources';
const PARALLEL = 20;

// ---------------------------------------------------------------------------------------------------
// Servers


interface Deployment {
  db: TestDatabase;
  clock: ManualClock;
  /** Start a(nother) server on the database; it is closed at the end unless the test closes it. */
  start(flags?: Flags): Promise<TestServer>;
}

/** The instances of one deployment share an issuer (with port 0 each server would otherwise name its
 * own address as issuer, and refuse the others' access tokens). */
const SHARED_ISSUER = 'http://gatehouse.test';

/** One database that outlives its servers (restarts, or several instances at once, all with one
 * issuer); alice exists. */
async function withDatabase(engine: EngineName, fn: (d: Deployment) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(engine);
  const clock = new ManualClock();
  const open = new Set<TestServer>();
  const start = async (flags: Flags = {}): Promise<TestServer> => {
    const s = await startServer(db, { clock, flags: { ...FAST_ARGON2, issuer: SHARED_ISSUER, ...flags } });
    open.add(s);
    return {
      ...s,
      close: async () => {
        open.delete(s);
        await s.close();
      },
    };
  };
  try {
    const first = await start();
    await first.addUser('alice', PW);
    await first.close();
    await fn({ db, clock, start });
  } finally {
    for (const s of open) await s.close().catch(() => {});
    await db.drop();
  }
}

// ---------------------------------------------------------------------------------------------------
// Responses

/** A successful token response (RFC 6749 §5.1): JSON, never cached, a 256-bit base64url refresh token. */
function expectTokenPair(r: RawResponse): TokenPair {
  expect(r.status, r.body).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['pragma']).toBe('no-cache');
  const body = r.json() as TokenPair;
  expect(body.token_type).toBe('Bearer');
  expect(body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(body.expires_in).toBeGreaterThan(0);
  expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  expect(Buffer.from(body.refresh_token, 'base64url').length).toBeGreaterThanOrEqual(32);
  return body;
}

/** 400 with the given OAuth error code, not cached. */
function expectError(r: RawResponse, error: string): void {
  expect(r.status, r.body).toBe(400);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.json()).toMatchObject({ error });
}

const expectInvalidGrant = (r: RawResponse) => expectError(r, 'invalid_grant');

/** A 429 with Retry-After in whole seconds; returns Retry-After. */
function expect429(r: RawResponse): number {
  expect(r.status, r.body).toBe(429);
  expect(r.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(r.json()).toMatchObject({ error: 'too_many_attempts' });
  return Number(r.headers['retry-after']);
}

const refreshOk = async (s: TestServer, token: string) => expectTokenPair(await refresh(s.url, token));
const refreshRefused = async (s: TestServer, token: string) => expectInvalidGrant(await refresh(s.url, token));
const resource = (s: TestServer, access: string) => bearer(`${s.url}${RESOURCE}`, access);
const me = (s: TestServer, access: string) => bearer(`${s.url}/auth/me`, access);

async function expectResourceOk(s: TestServer, access: string): Promise<void> {
  const r = await resource(s, access);
  expect(r.status, r.body).toBe(200);
}

/** 401 invalid_token with a Bearer challenge (RFC 6750 §3.1). */
function expectInvalidToken(r: RawResponse): void {
  expect(r.status, r.body).toBe(401);
  expect(r.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
}

// ---------------------------------------------------------------------------------------------------
// What the database holds

/** How a refresh token is stored: SHA-256, base64url (computed here, not with the server's helper). */
const sha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

async function tokenRow(s: TestServer, token: string) {
  return s.g.store.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', sha256(token)).executeTakeFirst();
}

/** The family of a token with all its token rows. */
async function familyOf(s: TestServer, token: string) {
  const row = await tokenRow(s, token);
  expect(row, 'the token is in the database').toBeDefined();
  const family = await s.g.store.db.selectFrom('refresh_families').selectAll().where('id', '=', row!.family_id).executeTakeFirstOrThrow();
  const tokens = await s.g.store.db.selectFrom('refresh_tokens').selectAll().where('family_id', '=', family.id).execute();
  return { family, tokens, token: row! };
}

async function familyCount(s: TestServer): Promise<number> {
  return (await s.g.store.db.selectFrom('refresh_families').select('id').execute()).length;
}

/** Record every outcome of the refresh service (the HTTP routes call it through this same object). */
function recordRotations(s: TestServer): RotateOutcome[] {
  const families = s.g.refreshFamilies;
  const original = families.rotate.bind(families);
  const outcomes: RotateOutcome[] = [];
  families.rotate = async (...args: Parameters<typeof original>) => {
    const outcome = await original(...args);
    outcomes.push(outcome);
    return outcome;
  };
  return outcomes;
}

const userId = async (s: TestServer, username = 'alice') => (await s.g.accounts.find(username))!.id;

// ---------------------------------------------------------------------------------------------------

describeEachEngine('JWT login and refresh-token families', (engine) => {
  // ----- 1. The whole flow -----

  it('login (JSON and form) → resource → refresh → resource → logout → refresh refused; two logins are two families', async () => {
    await withServer(engine, {}, async (s) => {
      const json = expectTokenPair(await postJson(`${s.url}/auth/login`, { username: 'alice', password: PW }));
      const form = expectTokenPair(await postForm(`${s.url}/auth/login`, { username: 'alice', password: PW }));
      expect(json.refresh_token).not.toBe(form.refresh_token);
      expect(json.refresh_token).toHaveLength(43); // 32 random bytes
      const a = await familyOf(s, json.refresh_token);
      const b = await familyOf(s, form.refresh_token);
      expect(a.family.id).not.toBe(b.family.id);
      expect(a.family.client_id).toBe('gatehouse-login');

      await expectResourceOk(s, json.access_token);
      const who = await me(s, json.access_token);
      expect(who.status).toBe(200);
      expect(who.json()).toMatchObject({ username: 'alice', client_id: 'gatehouse-login' });

      const next = await refreshOk(s, json.refresh_token);
      expect(next.refresh_token).not.toBe(json.refresh_token);
      expect(next.access_token).not.toBe(json.access_token);
      await expectResourceOk(s, next.access_token);
      expect((await familyOf(s, next.refresh_token)).family.id).toBe(a.family.id);

      const out = await logout(s.url, next.refresh_token);
      expect(out.status).toBe(200);
      expect(out.headers['cache-control']).toBe('no-store');
      expect(out.json()).toEqual({ status: 'logged_out' });
      await refreshRefused(s, next.refresh_token);
      expect((await familyOf(s, next.refresh_token)).family.revoked_at).not.toBeNull();

      // The second device's login is untouched by the first one's logout.
      const other = await refreshOk(s, form.refresh_token);
      await expectResourceOk(s, other.access_token);
    });
  });

  it('a refresh by form works too; logout with an older token of the family ends the whole family', async () => {
    await withServer(engine, {}, async (s) => {
      const first = await login(s.url);
      const second = expectTokenPair(await postForm(`${s.url}/auth/refresh`, { refresh_token: first.refresh_token }));
      expect((await logout(s.url, first.refresh_token)).json()).toEqual({ status: 'logged_out' });
      await refreshRefused(s, second.refresh_token);
    });
  });

  it('logout answers the same for any token, and ends nothing it should not', async () => {
    await withServer(engine, {}, async (s) => {
      const live = await login(s.url);
      for (const junk of ['x', 'A'.repeat(43), sha256(live.refresh_token)]) {
        const r = await logout(s.url, junk);
        expect(r.status).toBe(200);
        expect(r.json()).toEqual({ status: 'logged_out' });
      }
      expectError(await postJson(`${s.url}/auth/logout`, {}), 'invalid_request');
      // Another client's token cannot be revoked through the login's logout.
      const foreign = await s.g.refreshFamilies.start({ userId: await userId(s), clientId: 'client-a', scope: '', authTime: Date.now() });
      expect((await logout(s.url, foreign.token)).status).toBe(200);
      expect((await s.g.refreshFamilies.rotate(foreign.token, 'client-a')).kind).toBe('rotated');
      await refreshOk(s, live.refresh_token);
    });
  });

  // ----- 2. Rotation, the grace window and reuse detection -----

  it('JW-18: reuse inside the grace window gets a fresh pair in the same family; both branches keep working', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      clock.advance(GRACE_MS - 1);
      const c = await refreshOk(s, a.refresh_token); // a second tab, or a retry after a lost response
      expect(c.refresh_token).not.toBe(b.refresh_token);
      const fam = await familyOf(s, c.refresh_token);
      expect((await familyOf(s, b.refresh_token)).family.id).toBe(fam.family.id);
      expect(fam.family.revoked_at).toBeNull();
      expect(await familyCount(s)).toBe(1);
      await expectResourceOk(s, b.access_token);
      await expectResourceOk(s, c.access_token);
      const d = await refreshOk(s, c.refresh_token);
      const e = await refreshOk(s, b.refresh_token);
      await expectResourceOk(s, d.access_token);
      await expectResourceOk(s, e.access_token);
    });
  });

  it('JW-18: reuse after the grace window → invalid_grant and the whole family is revoked, newest token included', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      const c = await refreshOk(s, b.refresh_token);
      clock.advance(GRACE_MS);
      await refreshRefused(s, a.refresh_token);
      await refreshRefused(s, c.refresh_token);
      await refreshRefused(s, b.refresh_token);
      const fam = await familyOf(s, c.refresh_token);
      expect(fam.family.revoked_at).not.toBeNull();
      expect(fam.family.revoked_reason).toBe('reuse');
    });
  });

  it('JW-18: the grace window ends exactly at --refresh-grace (here 30 s)', async () => {
    await withServer(engine, { 'refresh-grace': '30' }, async (s, clock) => {
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      clock.advance(29_999);
      await refreshOk(s, a.refresh_token);
      clock.advance(1);
      await refreshRefused(s, a.refresh_token);
      await refreshRefused(s, b.refresh_token);
    });
  });

  it('JW-18: with --refresh-grace 0 an immediate reuse revokes the family', async () => {
    await withServer(engine, { 'refresh-grace': '0' }, async (s) => {
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      await refreshRefused(s, a.refresh_token);
      await refreshRefused(s, b.refresh_token);
      expect((await familyOf(s, b.refresh_token)).family.revoked_reason).toBe('reuse');
    });
  });

  it('a grace-window sibling that is reused after the window also revokes the family', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      const c = await refreshOk(s, a.refresh_token); // grace sibling of b
      const d = await refreshOk(s, b.refresh_token); // b rotates: c counts as used from now on
      clock.advance(GRACE_MS);
      await refreshRefused(s, c.refresh_token);
      await refreshRefused(s, d.refresh_token);
    });
  });

  // ----- 3.: what the database keeps across a restart -----

  it('R-07: the revocation caused by a reuse is committed: after a restart the newest token still fails', async () => {
    await withDatabase(engine, async ({ clock, start }) => {
      let s = await start();
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      clock.advance(GRACE_MS);
      await refreshRefused(s, a.refresh_token);
      await s.close();
      s = await start();
      await refreshRefused(s, b.refresh_token);
      expect((await familyOf(s, b.refresh_token)).family.revoked_reason).toBe('reuse');
    });
  });

  it('R-01: a rotation whose response was lost is retried after a restart: same family within grace, revoked after', async () => {
    await withDatabase(engine, async ({ clock, start }) => {
      let s = await start();
      const a = await login(s.url);
      const lost = await refreshOk(s, a.refresh_token); // the client never saw this one
      await s.close();
      s = await start();
      const old = await tokenRow(s, a.refresh_token);
      expect(old?.used_at).not.toBeNull(); // old consumed
      expect((await tokenRow(s, lost.refresh_token))?.used_at).toBeNull(); // new live
      const retried = await refreshOk(s, a.refresh_token);
      expect((await familyOf(s, retried.refresh_token)).family.id).toBe(old!.family_id);
      clock.advance(GRACE_MS);
      await refreshRefused(s, a.refresh_token);
      await refreshRefused(s, lost.refresh_token);
    });
  });

  // ----- 4. R-05: parallel use of one token -----

  it(`R-05: ${PARALLEL} parallel refreshes of one token within grace: ${PARALLEL} × 200, one rotation, one live family`, async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s.url);
      const outcomes = recordRotations(s);
      const answers = await Promise.all(Array.from({ length: PARALLEL }, () => refresh(s.url, a.refresh_token)));
      expect(answers.map((r) => r.status)).toEqual(Array(PARALLEL).fill(200));
      const pairs = answers.map(expectTokenPair);
      expect(outcomes.filter((o) => o.kind === 'rotated' && !o.grace)).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'rotated' && o.grace)).toHaveLength(PARALLEL - 1);
      await expectOneRotationInDb(s, a.refresh_token, pairs);
      await expectAllWork(s, pairs);
    });
  });

  it(`R-05: ${PARALLEL} parallel refreshes with --refresh-grace 0: one 200, ${PARALLEL - 1} × invalid_grant, family revoked`, async () => {
    await withServer(engine, { 'refresh-grace': '0' }, async (s) => {
      const a = await login(s.url);
      const answers = await Promise.all(Array.from({ length: PARALLEL }, () => refresh(s.url, a.refresh_token)));
      await expectOneWinnerAndRevoked(s, answers);
    });
  });

  it(`R-05: ${PARALLEL} parallel refreshes through two servers on one database, within grace`, async () => {
    await withDatabase(engine, async ({ start }) => {
      const s1 = await start();
      const s2 = await start();
      const a = await login(s1.url);
      const outcomes = [s1, s2].map(recordRotations);
      const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => refresh((i % 2 ? s2 : s1).url, a.refresh_token)));
      expect(answers.map((r) => r.status)).toEqual(Array(PARALLEL).fill(200));
      const pairs = answers.map(expectTokenPair);
      const all = outcomes.flat();
      expect(all).toHaveLength(PARALLEL);
      expect(all.filter((o) => o.kind === 'rotated' && !o.grace)).toHaveLength(1);
      await expectOneRotationInDb(s2, a.refresh_token, pairs);
      await expectAllWork(s1, pairs);
    });
  });

  it(`R-05: ${PARALLEL} parallel refreshes through two servers on one database, --refresh-grace 0`, async () => {
    await withDatabase(engine, async ({ start }) => {
      const s1 = await start({ 'refresh-grace': '0' });
      const s2 = await start({ 'refresh-grace': '0' });
      const a = await login(s1.url);
      const answers = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => refresh((i % 2 ? s2 : s1).url, a.refresh_token)));
      await expectOneWinnerAndRevoked(s1, answers);
    });
  });

  it('R-05: a logout racing parallel refreshes leaves the family revoked and every token it issued dead', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s.url);
      const [out, ...answers] = await Promise.all([
        logout(s.url, a.refresh_token),
        ...Array.from({ length: 10 }, () => refresh(s.url, a.refresh_token)),
      ]);
      expect(out!.status).toBe(200);
      for (const r of answers) expect([200, 400]).toContain(r.status);
      for (const r of answers) if (r.status === 200) await refreshRefused(s, expectTokenPair(r).refresh_token);
      await refreshRefused(s, a.refresh_token);
      expect((await familyOf(s, a.refresh_token)).family.revoked_reason).toBe('logout');
    });
  });

  // ----- 5. Lifetimes -----

  it('idle timeout: a token unused for --refresh-idle-ttl (default 14 days) is refused; each use slides it', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const a = await login(s.url);
      const b = await login(s.url);
      clock.advance(14 * DAY_MS - 1000);
      const a2 = await refreshOk(s, a.refresh_token); // used just in time: the new token has its own 14 days
      clock.advance(1000);
      await refreshRefused(s, b.refresh_token); // b was never used
      clock.advance(14 * DAY_MS - 2000); // 28 days after login: within the 30-day absolute lifetime
      await refreshOk(s, a2.refresh_token);
    });
  });

  it('a used token replayed after its idle time (and after the purge) still revokes the family', async () => {
    await withServer(engine, { 'refresh-idle-ttl': '600', 'refresh-absolute-ttl': '3600' }, async (s, clock) => {
      const first = (await login(s.url)).refresh_token;
      clock.advance(300_000);
      const second = (await refreshOk(s, first)).refresh_token; // first: used at 300 s, idle until 600 s
      clock.advance(301_000); // 601 s: first's idle time is over, second lives until 900 s
      await s.g.store.refreshTokens.purgeExpired(clock.now());
      await refreshRefused(s, first); // recognised as a replay, not as unknown
      expect((await familyOf(s, second)).family.revoked_reason).toBe('reuse');
      await refreshRefused(s, second);
    });
  });

  it('JW-22: past --refresh-absolute-ttl the family ends although each use slid the idle timeout', async () => {
    await withServer(engine, { 'refresh-idle-ttl': '600', 'refresh-absolute-ttl': '1000' }, async (s, clock) => {
      let t = (await login(s.url)).refresh_token;
      clock.advance(500_000);
      t = (await refreshOk(s, t)).refresh_token; // t = 500 s
      clock.advance(499_000);
      t = (await refreshOk(s, t)).refresh_token; // t = 999 s
      clock.advance(1000);
      await refreshRefused(s, t); // t = 1000 s: the token is 1 s old, the login 1000 s
      expect((await familyOf(s, t)).family.revoked_at).toBeNull(); // expired, not revoked
    });
  });

  it('JW-22: refreshing every 500 s keeps a login alive only until its absolute lifetime', async () => {
    await withServer(engine, { 'refresh-idle-ttl': '600', 'refresh-absolute-ttl': '1800' }, async (s, clock) => {
      let t = (await login(s.url)).refresh_token;
      for (let i = 1; i <= 3; i++) {
        clock.advance(500_000);
        t = (await refreshOk(s, t)).refresh_token; // 500, 1000, 1500 s
      }
      clock.advance(500_000); // 2000 s: idle alone would allow it until 2100 s
      await refreshRefused(s, t);
    });
  });

  // ----- 6. JW-21: what ends a login -----

  it('JW-21: a password change ends every refresh family and session of the user', async () => {
    await withServer(engine, {}, async (s) => {
      const phone = await login(s.url);
      const laptop = await login(s.url);
      const session = await s.g.sessions.create(await userId(s), undefined);
      expect(await s.g.sessions.find(session.id)).toBeDefined();
      await s.g.accounts.setPassword('alice', NEW_PW);
      await refreshRefused(s, phone.refresh_token);
      await refreshRefused(s, laptop.refresh_token);
      expect(await s.g.sessions.find(session.id)).toBeUndefined();
      expect((await familyOf(s, phone.refresh_token)).family.revoked_reason).toBe('password-change');
      expectInvalidGrant(await postJson(`${s.url}/auth/login`, { username: 'alice', password: PW }));
      await refreshOk(s, (await login(s.url, 'alice', NEW_PW)).refresh_token);
    });
  });

  it('JW-21: disabling the user ends refresh and sessions, /auth/me answers 401 invalid_token; enabling again does not revive them', async () => {
    await withServer(engine, {}, async (s) => {
      const pair = await login(s.url);
      const session = await s.g.sessions.create(await userId(s), undefined);
      await s.g.accounts.setDisabled('alice', true);
      await refreshRefused(s, pair.refresh_token);
      expectInvalidToken(await me(s, pair.access_token));
      expect(await s.g.sessions.find(session.id)).toBeUndefined();
      expect((await familyOf(s, pair.refresh_token)).family.revoked_reason).toBe('disabled');
      await s.g.accounts.setDisabled('alice', false);
      await refreshRefused(s, pair.refresh_token);
      expect((await me(s, pair.access_token)).status).toBe(200);
    });
  });

  it('JW-21: removing the user ends refresh; /auth/me answers 401 invalid_token', async () => {
    await withServer(engine, {}, async (s) => {
      const pair = await login(s.url);
      await s.g.accounts.remove('alice');
      await refreshRefused(s, pair.refresh_token);
      expectInvalidToken(await me(s, pair.access_token));
      expect(await tokenRow(s, pair.refresh_token)).toBeUndefined();
    });
  });

  it('JW-21: logout ends refresh (and only that login)', async () => {
    await withServer(engine, {}, async (s) => {
      const one = await login(s.url);
      const two = await login(s.url);
      await logout(s.url, one.refresh_token);
      await refreshRefused(s, one.refresh_token);
      expect((await familyOf(s, one.refresh_token)).family.revoked_reason).toBe('logout');
      await refreshOk(s, two.refresh_token);
    });
  });

  // ----- 7. JW-19, JW-20: the service's client and scope rules -----

  it('JW-19: a family bound to one client is refused to another, over HTTP and through the service', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const a = await s.g.refreshFamilies.start({ userId: await userId(s), clientId: 'client-a', scope: 'a b', authTime: clock.now() });
      expect(await s.g.refreshFamilies.rotate(a.token, 'other-client')).toEqual({ kind: 'invalid', reason: 'client' });
      await refreshRefused(s, a.token); // the JWT login is client "gatehouse-login"
      const mine = await login(s.url);
      expect(await s.g.refreshFamilies.rotate(mine.refresh_token, 'client-a')).toEqual({ kind: 'invalid', reason: 'client' });
      expect((await s.g.refreshFamilies.rotate(a.token, 'client-a')).kind).toBe('rotated');
    });
  });

  it('JW-20: a scope not granted → invalid_scope; a narrower one → rotated with that scope', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const families = s.g.refreshFamilies;
      const a = await families.start({ userId: await userId(s), clientId: 'client-a', scope: 'a b', authTime: clock.now() });
      expect(await families.rotate(a.token, 'client-a', 'scope-not-granted')).toEqual({ kind: 'invalid_scope' });
      expect(await families.rotate(a.token, 'client-a', 'a c')).toEqual({ kind: 'invalid_scope' });
      const narrowed = await families.rotate(a.token, 'client-a', 'a');
      expect(narrowed).toMatchObject({ kind: 'rotated', scope: 'a', grace: false });
      if (narrowed.kind !== 'rotated') throw new Error('unreachable');
      // Without a scope the next rotation gets the family's whole grant (RFC 6749 §6).
      expect(await families.rotate(narrowed.token, 'client-a')).toMatchObject({ kind: 'rotated', scope: 'a b' });
    });
  });

  // ----- 8. JW-23: only hashes at rest -----

  it('JW-23: the database holds only SHA-256 hashes; the stored hash is not a refresh token', async () => {
    await withServer(engine, {}, async (s) => {
      const a = await login(s.url);
      const b = await refreshOk(s, a.refresh_token);
      const tokens = await s.g.store.db.selectFrom('refresh_tokens').selectAll().execute();
      const families = await s.g.store.db.selectFrom('refresh_families').selectAll().execute();
      const dump = JSON.stringify([tokens, families]);
      for (const plain of [a.refresh_token, b.refresh_token]) {
        expect(dump).not.toContain(plain);
        expect(tokens.map((t) => t.token_hash)).toContain(sha256(plain));
      }
      await refreshRefused(s, sha256(b.refresh_token));
      await refreshOk(s, b.refresh_token); // the refusal did not touch the real token
    });
  });

  // ----- 9, 10. The login's password path -----

  it('JW-24: unknown user, wrong password and an over-long user name get the same answer', async () => {
    await withServer(engine, {}, async (s) => {
      const wrong = await postJson(`${s.url}/auth/login`, { username: 'alice', password: WRONG });
      const unknown = await postJson(`${s.url}/auth/login`, { username: 'nobody', password: WRONG });
      const long = await postJson(`${s.url}/auth/login`, { username: 'x'.repeat(300), password: WRONG });
      expectInvalidGrant(wrong);
      expect(comparable(unknown)).toEqual(comparable(wrong));
      expect(comparable(long)).toEqual(comparable(wrong));
      const wrongForm = await postForm(`${s.url}/auth/login`, { username: 'alice', password: WRONG });
      const unknownForm = await postForm(`${s.url}/auth/login`, { username: 'nobody', password: WRONG });
      expect(comparable(unknownForm)).toEqual(comparable(wrongForm));
    });
  });

  it('login: missing or non-string fields → invalid_request', async () => {
    await withServer(engine, {}, async (s) => {
      const bodies: unknown[] = [{}, { username: 'alice' }, { password: PW }, { username: '', password: PW }, { username: 'alice', password: 1 }, { username: ['alice'], password: PW }, null, []];
      for (const body of bodies) expectError(await postJson(`${s.url}/auth/login`, body), 'invalid_request');
      expectError(await postForm(`${s.url}/auth/login`, { username: 'alice' }), 'invalid_request');
    });
  });

  it('BA-11: failed logins at /auth/login count toward the throttle shared with Basic', async () => {
    await withServer(engine, { 'lockout-free-failures': '1' }, async (s, clock) => {
      expectInvalidGrant(await postJson(`${s.url}/auth/login`, { username: 'alice', password: WRONG }));
      expectInvalidGrant(await postForm(`${s.url}/auth/login`, { username: 'alice', password: WRONG }));
      expect(expect429(await postJson(`${s.url}/auth/login`, { username: 'alice', password: PW }))).toBe(1);
      expect429(await getBasic(s.url, basic('alice', PW)));
      clock.advance(1000);
      expectTokenPair(await postJson(`${s.url}/auth/login`, { username: 'alice', password: PW }));
    });
  });

  it('BA-11: Basic failures throttle /auth/login for the same account', async () => {
    await withServer(engine, { 'lockout-free-failures': '1' }, async (s, clock) => {
      for (let i = 0; i < 2; i++) expect((await getBasic(s.url, basic('alice', WRONG))).status).toBe(401);
      const blocked = await postJson(`${s.url}/auth/login`, { username: 'alice', password: PW });
      expect429(blocked);
      expect(blocked.body).not.toContain('access_token');
      clock.advance(expect429(await postForm(`${s.url}/auth/login`, { username: 'alice', password: PW })) * 1000);
      expectTokenPair(await postForm(`${s.url}/auth/login`, { username: 'alice', password: PW }));
    });
  });

  // ----- 11. Junk at /auth/refresh -----

  it('junk refresh tokens → 400, never 500; a known token next to them still works', async () => {
    await withServer(engine, {}, async (s) => {
      const live = await login(s.url);
      const url = `${s.url}/auth/refresh`;
      const cases: Array<[string, RawResponse]> = [
        ['missing', await postJson(url, {})],
        ['empty', await postJson(url, { refresh_token: '' })],
        ['10 KB', await postJson(url, { refresh_token: 'A'.repeat(10 * 1024) })],
        ['number', await postJson(url, { refresh_token: 12345 })],
        ['array', await postJson(url, { refresh_token: [live.refresh_token] })],
        ['object', await postJson(url, { refresh_token: { token: live.refresh_token } })],
        ['null', await postJson(url, { refresh_token: null })],
        ['body null', await postJson(url, null)],
        ['body array', await postJson(url, [live.refresh_token])],
        ['body string', await postJson(url, live.refresh_token)],
        ['bad JSON', await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"refresh_token":' })],
        ['unknown, well-formed', await refresh(s.url, 'A'.repeat(43))],
        ['one character changed', await refresh(s.url, live.refresh_token.slice(0, -1) + (live.refresh_token.endsWith('A') ? 'B' : 'A'))],
        ['with whitespace', await refresh(s.url, ` ${live.refresh_token}`)],
        ['non-ASCII', await refresh(s.url, 'é'.repeat(43))],
        ['form, empty', await postForm(url, { refresh_token: '' })],
        ['form, 10 KB', await postForm(url, { refresh_token: 'A'.repeat(10 * 1024) })],
        ['form, duplicate', await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `refresh_token=${live.refresh_token}&refresh_token=${live.refresh_token}` })],
        ['form, two values', await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'refresh_token=a&refresh_token=b' })],
      ];
      for (const [name, r] of cases) {
        expect(r.status, `${name}: ${r.body}`).toBe(400);
        if (r.headers['content-type']?.startsWith('application/json')) expect(['invalid_request', 'invalid_grant', 'Bad Request'], name).toContain(r.json().error);
      }
      const byName = Object.fromEntries(cases.map(([n, r]) => [n, r]));
      for (const n of ['missing', 'empty', 'number', 'array', 'object', 'null', 'body null', 'body array', 'form, empty']) expectError(byName[n]!, 'invalid_request');
      for (const n of ['10 KB', 'unknown, well-formed', 'one character changed', 'with whitespace', 'non-ASCII', 'form, 10 KB']) expectError(byName[n]!, 'invalid_grant');
      await refreshOk(s, live.refresh_token); // none of the junk consumed or revoked the real token
    });
  });

  // ----- 12. R-10: restart -----

  it('R-10: families and signing keys survive a restart: the refresh token refreshes, the old access token verifies', async () => {
    await withDatabase(engine, async ({ start }) => {
      let s = await start();
      const pair = await login(s.url);
      const rotated = await refreshOk(s, pair.refresh_token);
      await s.close();
      s = await start();
      await expectResourceOk(s, pair.access_token);
      expect((await me(s, rotated.access_token)).json()).toMatchObject({ username: 'alice' });
      const after = await refreshOk(s, rotated.refresh_token);
      await expectResourceOk(s, after.access_token);
      expect((await familyOf(s, after.refresh_token)).family.id).toBe((await familyOf(s, pair.refresh_token)).family.id);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// R-05 oracles

/** After N grace-path uses of `presented`: it was rotated once (used_at set), the family holds it and
 * the N new tokens, all distinct and unused, and is live; no second family was made. */
async function expectOneRotationInDb(s: TestServer, presented: string, pairs: TokenPair[]): Promise<void> {
  const issued = pairs.map((p) => p.refresh_token);
  expect(new Set(issued).size).toBe(issued.length);
  const { family, tokens, token } = await familyOf(s, presented);
  expect(token.used_at).not.toBeNull();
  expect(family.revoked_at).toBeNull();
  expect(tokens).toHaveLength(issued.length + 1);
  const children = tokens.filter((t) => t.token_hash !== token.token_hash);
  expect(children.map((t) => t.token_hash).sort()).toEqual(issued.map(sha256).sort());
  for (const t of children) {
    expect(t.used_at).toBeNull();
    expect(Number(t.generation)).toBe(Number(token.generation) + 1);
  }
  expect(await familyCount(s)).toBe(1);
}

/** Every one of the new refresh tokens refreshes (the first rotates, the rest are grace siblings). */
async function expectAllWork(s: TestServer, pairs: TokenPair[]): Promise<void> {
  for (const p of pairs) {
    await expectResourceOk(s, p.access_token);
    await refreshOk(s, p.refresh_token);
  }
}

/** With no grace: exactly one winner, the rest invalid_grant, and the family (with the winner's token) revoked. */
async function expectOneWinnerAndRevoked(s: TestServer, answers: RawResponse[]): Promise<void> {
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((x) => x === 200), statuses.join(',')).toHaveLength(1);
  expect(statuses.filter((x) => x === 400), statuses.join(',')).toHaveLength(answers.length - 1);
  for (const r of answers) if (r.status === 400) expectInvalidGrant(r);
  const winner = expectTokenPair(answers.find((r) => r.status === 200)!);
  await refreshRefused(s, winner.refresh_token);
  const { family } = await familyOf(s, winner.refresh_token);
  expect(family.revoked_at).not.toBeNull();
  expect(family.revoked_reason).toBe('reuse');
  expect(await familyCount(s)).toBe(1);
}
