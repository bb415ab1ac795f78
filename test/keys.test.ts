// Signing keys, on both engines: the JWKS (catalogue ST-03, §3.1 `oidcc-server-rotate-keys`: only public
// members, distinct kids), private keys sealed at rest and bound to their row, the rotation timeline
// next → active → retired → removed, emergency revocation, automatic rotation that happens once
// across instances, restarts that keep the keys and a refusal to start when they do not decrypt,
// several instances on one database, and `gatehouse keys list|rotate|revoke`.
// Time moves only through a ManualClock shared by the servers of a test; nothing sleeps. Every server
// gets a fixed issuer, so a token stays valid across restarts and instances (each listens on its own port).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main, type Io } from '../src/cli/main.js';
import { ManualClock } from '../src/clock.js';
import { StartupError, type Gatehouse } from '../src/gatehouse.js';
import { revokeKey, rotateKeys, RotationError } from '../src/keys/rotation.js';
import { keyState } from '../src/keys/signing-key.js';
import { maintain } from '../src/maintenance.js';
import type { SigningKeyRow } from '../src/store/signing-keys.js';
import { Store } from '../src/store/store.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine, type EngineName } from './support/engines.js';
import { request, type RawResponse } from './support/http.js';
import { bearer, decodeSegment, login, postJson, PW } from './support/jwt-login.js';
import { createTestDatabase, startServer, type TestDatabase, type TestServer } from './support/server.js';

type Flags = Record<string, string | boolean>;

const ISSUER = 'http://gatehouse.test';
const AUDIENCE = `${ISSUER}/api`;
const BASE_FLAGS: Flags = { ...FAST_ARGON2, issuer: ISSUER };
const RESOURCE = '/api/jwt/resources';
/** JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
// Defaults: key-publish-delay 600 s, access-token-ttl 600 s, token-leeway 30 s.
const PUBLISH_DELAY_MS = 600_000;
const RETIRE_AFTER_MS = (600 + 30) * 1000;

// ---------------------------------------------------------------------------------------------------
// Deployments: one database, a ManualClock, any number of servers; all closed after each test.

interface Deployment {
  db: TestDatabase;
  clock: ManualClock;
  start(flags?: Flags): Promise<TestServer>;
  stop(server: TestServer): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function deployment(engine: EngineName, flags: Flags = {}): Promise<Deployment> {
  const db = await createTestDatabase(engine);
  // A whole second, so token times (whole seconds) line up with key times (ms).
  const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
  const running = new Set<TestServer>();
  cleanups.push(async () => {
    for (const s of running) await s.close().catch(() => {});
    await db.drop();
  });
  return {
    db,
    clock,
    start: async (extra = {}) => {
      const s = await startServer(db, { clock, flags: { ...BASE_FLAGS, ...flags, ...extra } });
      running.add(s);
      return s;
    },
    stop: async (s) => {
      running.delete(s);
      await s.close();
    },
  };
}

/** A deployment with one server and alice. */
async function oneServer(engine: EngineName, flags: Flags = {}): Promise<{ d: Deployment; s: TestServer; clock: ManualClock }> {
  const d = await deployment(engine, flags);
  const s = await d.start();
  await s.addUser('alice', PW);
  return { d, s, clock: d.clock };
}

const deps = (g: Gatehouse) => ({ store: g.store, box: g.box, clock: g.clock, policy: g.keyPolicy });

/** Move a ManualClock to an absolute time (forward only). */
function setClock(clock: ManualClock, t: number): void {
  expect(t).toBeGreaterThanOrEqual(clock.now());
  clock.advance(t - clock.now());
}

// ---------------------------------------------------------------------------------------------------
// Keys as stored and as published.

async function withStore<T>(db: TestDatabase, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(db.url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const rowsOf = (db: TestDatabase) => withStore(db, (s) => s.signingKeys.list());
const rowOf = (rows: SigningKeyRow[], kid: string) => rows.find((r) => r.kid === kid)!;

function stateOf(r: SigningKeyRow, now: number): string {
  return keyState({ activeFrom: r.active_from, activeUntil: r.active_until, publishedUntil: r.published_until }, now);
}

/** kid → state of every stored key, at `now`. */
async function states(db: TestDatabase, now: number): Promise<Record<string, string>> {
  return Object.fromEntries((await rowsOf(db)).map((r) => [r.kid, stateOf(r, now)]));
}

async function setPrivateJwk(db: TestDatabase, kid: string, value: string): Promise<void> {
  await withStore(db, (s) => s.db.updateTable('signing_keys').set({ private_jwk: value }).where('kid', '=', kid).execute());
}

interface Jwks {
  keys: JWK[];
  kids: string[];
  response: RawResponse;
}

/** GET the JWKS and check what must hold of every published set: the media type, public members only,
 * each key usable for signatures and named by a distinct kid. */
async function fetchJwks(url: string): Promise<Jwks> {
  const r = await request(`${url}/.well-known/jwks.json`);
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
  const body = r.json() as { keys: JWK[] };
  expect(Object.keys(body)).toEqual(['keys']);
  for (const k of body.keys) {
    for (const m of PRIVATE_MEMBERS) expect(k, `JWKS key ${k.kid} has private member "${m}"`).not.toHaveProperty(m);
    expect(k.kty).not.toBe('oct');
    expect(k).toMatchObject({ use: 'sig', kid: expect.any(String), alg: expect.any(String), kty: expect.any(String) });
  }
  const kids = body.keys.map((k) => k.kid!);
  expect(new Set(kids).size).toBe(kids.length);
  return { keys: body.keys, kids, response: r };
}

const jwksKids = async (url: string) => (await fetchJwks(url)).kids.sort();
const sorted = (...kids: string[]) => [...kids].sort();

// ---------------------------------------------------------------------------------------------------
// Tokens.

const kidOf = (token: string) => decodeSegment(token, 0).kid as string;
const expOf = (token: string) => decodeSegment(token, 1).exp as number;
const accessToken = async (s: TestServer) => (await login(s.url)).access_token;

async function expectAccepted(s: TestServer, token: string, why = ''): Promise<void> {
  const r = await bearer(`${s.url}${RESOURCE}`, token);
  expect(r.status, `${why} ${r.body}`).toBe(200);
}

/** 401 invalid_token; returns the error_description. */
async function expectRejected(s: TestServer, token: string, why = ''): Promise<string> {
  const r = await bearer(`${s.url}${RESOURCE}`, token);
  expect(r.status, `${why} ${r.body}`).toBe(401);
  expect(r.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
  return String(r.json().error_description);
}

const NOT_OUR_KEY = 'The access token was not signed by a key of this server.';

/** What a resource server does with the published set: verify the token against it alone. */
async function verifyWithJwks(token: string, jwks: Jwks, now: number): Promise<void> {
  const { protectedHeader } = await jwtVerify(token, createLocalJWKSet({ keys: jwks.keys }), {
    issuer: ISSUER,
    audience: AUDIENCE,
    typ: 'at+jwt',
    currentDate: new Date(now),
  });
  expect(jwks.kids).toContain(protectedHeader.kid);
}

// ---------------------------------------------------------------------------------------------------
// The CLI, in process (`main` with an Io that collects the output) and as a real process.

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const settingFlags = (db: TestDatabase) => ['--database-url', db.url, '--data-dir', db.dataDir, '--secret-key', db.secretKey, '--log-level', 'silent'];

async function cli(db: TestDatabase, args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), readStdin: () => '', stdinIsTty: false };
  const code = await main([...args, ...settingFlags(db)], io);
  return { code, stdout, stderr };
}

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));

/** bin/gatehouse.js (over dist/) with the settings in the environment, as cli.test.ts runs it. */
function gatehouseProcess(db: TestDatabase, args: string[]): Promise<CliRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')));
  const env = { ...clean, GATEHOUSE_DATABASE_URL: db.url, GATEHOUSE_DATA_DIR: db.dataDir, GATEHOUSE_SECRET_KEY: db.secretKey, GATEHOUSE_LOG_LEVEL: 'silent' };
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// ===================================================================================================

describeEachEngine('JWKS', (engine) => {
  it('ST-03: two keys at first start, distinct RFC 7638 kids, public members only; the token kid is the active key', async () => {
    const { s, d, clock } = await oneServer(engine);
    const jwks = await fetchJwks(s.url);
    expect(jwks.keys).toHaveLength(2);
    for (const k of jwks.keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(Object.keys(k).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(await calculateJwkThumbprint(k, 'sha256')).toBe(k.kid);
    }
    const st = await states(d.db, clock.now());
    expect(Object.keys(st).sort()).toEqual(sorted(...jwks.kids));
    expect(Object.values(st).sort()).toEqual(['active', 'next']);

    const token = await accessToken(s);
    const header = decodeSegment(token, 0);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(st[kidOf(token)]).toBe('active');
    await verifyWithJwks(token, jwks, clock.now());
    await expectAccepted(s, token);
  });

  it('Cache-Control max-age is no longer than the publish delay', async () => {
    const maxAge = async (s: TestServer) => {
      const cc = String((await fetchJwks(s.url)).response.headers['cache-control']);
      const m = /(?:^|,)\s*max-age=(\d+)\s*(?:,|$)/.exec(cc);
      expect(m, cc).not.toBeNull();
      return Number(m![1]);
    };
    const d = await deployment(engine);
    expect(await maxAge(await d.start())).toBeLessThanOrEqual(600);
    expect(await maxAge(await d.start({ 'key-publish-delay': '60' }))).toBeLessThanOrEqual(60);
    expect(await maxAge(await d.start({ 'key-publish-delay': '0' }))).toBe(0);
  });

  const families: Array<[string, Record<string, unknown>, string[]]> = [
    ['RS256', { kty: 'RSA', e: 'AQAB' }, ['alg', 'e', 'kid', 'kty', 'n', 'use']],
    ['EdDSA', { kty: 'OKP', crv: 'Ed25519' }, ['alg', 'crv', 'kid', 'kty', 'use', 'x']],
  ];
  for (const [alg, shape, members] of families) {
    it(`signing-alg ${alg}: published as ${String(shape.kty)}, tokens verify on the server and against the JWKS`, async () => {
      const { s, clock } = await oneServer(engine, { 'signing-alg': alg });
      const jwks = await fetchJwks(s.url);
      expect(jwks.keys).toHaveLength(2);
      for (const k of jwks.keys) {
        expect(k).toMatchObject({ ...shape, alg, use: 'sig' });
        expect(Object.keys(k).sort()).toEqual(members);
        expect(await calculateJwkThumbprint(k, 'sha256')).toBe(k.kid);
      }
      if (alg === 'RS256') expect(Buffer.from(String(jwks.keys[0]!.n), 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
      const token = await accessToken(s);
      expect(decodeSegment(token, 0)).toMatchObject({ alg, typ: 'at+jwt' });
      await verifyWithJwks(token, jwks, clock.now());
      await expectAccepted(s, token);
    });
  }
});

describeEachEngine('signing keys at rest', (engine) => {
  it('ST-03: the private key is sealed (v1., not JSON, no d in clear) and opens to the pair of the published key', async () => {
    const { s, d } = await oneServer(engine);
    const jwks = await fetchJwks(s.url);
    const rows = await rowsOf(d.db);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.private_jwk).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
      expect(() => JSON.parse(row.private_jwk)).toThrow();
      const pub = JSON.parse(row.public_jwk) as JWK;
      for (const m of PRIVATE_MEMBERS) expect(pub).not.toHaveProperty(m);
      // The sealed value opens with the server's box (bound to the kid) to the private half of the published key.
      const priv = JSON.parse(s.g.box.open(row.private_jwk, `signing-key:${row.kid}`)) as JWK;
      expect(typeof priv.d).toBe('string');
      expect(priv.d!.length).toBeGreaterThanOrEqual(40);
      expect({ x: priv.x, y: priv.y }).toEqual({ x: pub.x, y: pub.y });
      expect(jwks.keys.find((k) => k.kid === row.kid)).toEqual(pub);
      for (const text of [row.private_jwk, row.public_jwk, jwks.response.body]) expect(text).not.toContain(priv.d);
    }
  });

  it('a sealed private key copied into another row does not open: the server refuses to start', async () => {
    const { s, d } = await oneServer(engine);
    await d.stop(s);
    const [a, b] = await rowsOf(d.db);
    await setPrivateJwk(d.db, b!.kid, a!.private_jwk);
    const before = await rowsOf(d.db);
    const err = await d.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as Error).message).toContain(`signing key ${b!.kid} does not decrypt`);
    expect(await rowsOf(d.db)).toEqual(before);
  });
});

describeEachEngine('key rotation', (engine) => {
  it('a client with a longer token lifetime of its own keeps its tokens verifiable after a rotation: the retired key stays published as long', async () => {
    const { s, d, clock } = await oneServer(engine);
    await s.g.clients.create({ clientId: 'long-lived', grantTypes: ['client_credentials'], accessTokenTtl: 3600 });
    const initial = await rowsOf(d.db);
    const k1 = initial.find((r) => r.active_from !== null)!.kid;
    const r = (await rotateKeys(deps(s.g), { immediately: true }))!;
    expect(r.retired).toBe(k1);
    // 3600 s of the client's own lifetime plus the 30 s leeway, not the default 600 + 30.
    expect(rowOf(await rowsOf(d.db), k1).published_until).toBe(clock.now() + (3600 + 30) * 1000);
    expect(r.activatesAt + RETIRE_AFTER_MS).toBeLessThan(clock.now() + (3600 + 30) * 1000);
  });

  it('R-09: next key published at once, signs after the publish delay; the retired key verifies until every token it signed has expired', async () => {
    const { s, d, clock } = await oneServer(engine);
    const t0 = clock.now();
    const initial = await rowsOf(d.db);
    const k1 = initial.find((r) => r.active_from !== null)!.kid;
    const k2 = initial.find((r) => r.active_from === null)!.kid;
    clock.advance(60_000);
    const early = await accessToken(s);
    expect(kidOf(early)).toBe(k1);

    const r = (await rotateKeys(deps(s.g)))!;
    expect(r).toMatchObject({ activated: k2, activatesAt: t0 + PUBLISH_DELAY_MS, retired: k1 });
    const k3 = r.next;
    expect([k1, k2]).not.toContain(k3);
    const rows = await rowsOf(d.db);
    expect(rowOf(rows, k1)).toMatchObject({ active_until: r.activatesAt, published_until: r.activatesAt + RETIRE_AFTER_MS });
    expect(rowOf(rows, k2)).toMatchObject({ active_from: r.activatesAt, active_until: null });
    expect(rowOf(rows, k3)).toMatchObject({ active_from: null, created_at: clock.now() });

    // The server's periodic upkeep picks the change up: the new next key is published at once.
    await maintain(s.g);
    expect(await jwksKids(s.url)).toEqual(sorted(k1, k2, k3));
    expect(kidOf(await accessToken(s))).toBe(k1);

    // Until the switch the active key signs; from it, the new one, without any reload.
    setClock(clock, r.activatesAt - 1);
    const last = await accessToken(s);
    expect(kidOf(last)).toBe(k1);
    clock.advance(1);
    const fresh = await accessToken(s);
    expect(kidOf(fresh)).toBe(k2);
    const jwks = await fetchJwks(s.url);
    await verifyWithJwks(fresh, jwks, clock.now());
    await verifyWithJwks(last, jwks, clock.now());
    for (const t of [early, last, fresh]) await expectAccepted(s, t);

    // The retired key stays published at least as long as the last token it signed (plus leeway) lives.
    const publishedUntil = r.activatesAt + RETIRE_AFTER_MS;
    expect(publishedUntil).toBeGreaterThanOrEqual((expOf(last) + 30) * 1000);
    setClock(clock, expOf(last) * 1000);
    await maintain(s.g);
    await expectAccepted(s, last, 'last token of the retired key, at its exp');
    setClock(clock, publishedUntil - 1);
    await maintain(s.g);
    expect(await jwksKids(s.url)).toEqual(sorted(k1, k2, k3));

    // Then it is removed: out of the JWKS, out of the table, and its tokens name no key of ours.
    clock.advance(1);
    await maintain(s.g);
    expect(await jwksKids(s.url)).toEqual(sorted(k2, k3));
    expect((await rowsOf(d.db)).map((x) => x.kid).sort()).toEqual(sorted(k2, k3));
    expect(await expectRejected(s, last)).toBe(NOT_OUR_KEY);
    const now = await accessToken(s);
    expect(kidOf(now)).toBe(k2);
    await expectAccepted(s, now);
  });

  it('a second rotation while one is scheduled is refused; `immediately` brings the scheduled one forward', async () => {
    const { s, d, clock } = await oneServer(engine);
    const old = await accessToken(s);
    const k1 = kidOf(old);
    const first = (await rotateKeys(deps(s.g)))!;
    const before = await rowsOf(d.db);
    clock.advance(10_000);

    await expect(rotateKeys(deps(s.g))).rejects.toBeInstanceOf(RotationError);
    await expect(rotateKeys(deps(s.g))).rejects.toThrow(/already scheduled.*--now/);
    expect(await rowsOf(d.db)).toEqual(before);

    const now = clock.now();
    const forward = (await rotateKeys(deps(s.g), { immediately: true }))!;
    expect(forward).toEqual({ activated: first.activated, activatesAt: now, retired: k1, next: first.next });
    const rows = await rowsOf(d.db);
    expect(rows).toHaveLength(3);
    expect(rowOf(rows, k1)).toMatchObject({ active_until: now, published_until: now + RETIRE_AFTER_MS });
    expect(await states(d.db, now)).toEqual({ [k1]: 'retired', [first.activated]: 'active', [first.next]: 'next' });

    await maintain(s.g);
    const token = await accessToken(s);
    expect(kidOf(token)).toBe(first.activated);
    await expectAccepted(s, token);
    await expectAccepted(s, old, 'token of the key retired early');

    // Nothing is scheduled any more: the next rotation is accepted and waits for the publish delay of its key.
    const again = (await rotateKeys(deps(s.g)))!;
    expect(again).toMatchObject({ activated: first.next, retired: first.activated, activatesAt: rowOf(rows, first.next).created_at + PUBLISH_DELAY_MS });
  });

  it('automatic rotation: due after key-rotation-interval, scheduled once when two servers run maintenance at once', async () => {
    const d = await deployment(engine, { 'key-rotation-interval': '3600' });
    const [a, b] = [await d.start(), await d.start()];
    await a.addUser('alice', PW);
    const t0 = d.clock.now();
    const initial = await rowsOf(d.db);
    expect(initial).toHaveLength(2);
    const k1 = initial.find((r) => r.active_from !== null)!.kid;

    setClock(d.clock, t0 + 3_600_000 - 1);
    await Promise.all([maintain(a.g), maintain(b.g)]);
    expect(await rowsOf(d.db)).toEqual(initial);

    d.clock.advance(1);
    await Promise.all([maintain(a.g), maintain(b.g), maintain(a.g), maintain(b.g)]);
    const rows = await rowsOf(d.db);
    expect(rows).toHaveLength(3);
    const now = d.clock.now();
    const st = await states(d.db, now);
    expect(Object.values(st).sort()).toEqual(['active', 'next', 'retired']);
    expect(st[k1]).toBe('retired');
    // The next key had been published since t0, longer than the publish delay: it signs now.
    const k2 = Object.keys(st).find((k) => st[k] === 'active')!;
    expect(rowOf(rows, k2).active_from).toBe(now);
    expect(rowOf(rows, k1)).toMatchObject({ active_until: now, published_until: now + RETIRE_AFTER_MS });
    for (const s of [a, b]) expect(kidOf(await accessToken(s))).toBe(k2);

    // Not again before the new key has signed for the interval.
    d.clock.advance(3_600_000 - 1);
    await Promise.all([maintain(a.g), maintain(b.g)]);
    expect((await rowsOf(d.db)).map((r) => r.kid).sort()).toEqual(sorted(...Object.keys(st).filter((k) => k !== k1)));
    d.clock.advance(1);
    await Promise.all([maintain(a.g), maintain(b.g)]);
    const later = await states(d.db, d.clock.now());
    expect(Object.values(later).sort()).toEqual(['active', 'next', 'retired']);
    expect(later[k2]).toBe('retired');
  });
});

describeEachEngine('key revocation', (engine) => {
  it('R-09: revoking the active key fails its tokens at once; another key signs; the JWKS drops it, with no reload by hand', async () => {
    const { s, d, clock } = await oneServer(engine);
    const old = await accessToken(s);
    const k1 = kidOf(old);
    const k2 = (await fetchJwks(s.url)).kids.find((k) => k !== k1)!;
    await expectAccepted(s, old);

    const { created } = await revokeKey(deps(s.g), k1);
    expect(created).toHaveLength(1);
    const k3 = created[0]!;
    expect(await states(d.db, clock.now())).toEqual({ [k2]: 'active', [k3]: 'next' });

    // No reload by hand: the JWKS and the next token already follow the change (the change feed).
    const jwks = await fetchJwks(s.url);
    expect(jwks.kids.sort()).toEqual(sorted(k2, k3));
    const token = await accessToken(s);
    expect(kidOf(token)).toBe(k2);
    expect(await expectRejected(s, old)).toBe(NOT_OUR_KEY);
    await expectAccepted(s, token);
    await verifyWithJwks(token, jwks, clock.now());

    await expect(revokeKey(deps(s.g), k1)).rejects.toThrow(RotationError);
    await expect(revokeKey(deps(s.g), 'no-such-kid')).rejects.toThrow(/no signing key with kid no-such-kid/);
  });

  it('revoking the active key while a rotation is scheduled promotes the scheduled key now', async () => {
    const { s, d, clock } = await oneServer(engine);
    const k1 = kidOf(await accessToken(s));
    const r = (await rotateKeys(deps(s.g)))!;
    const { created } = await revokeKey(deps(s.g), k1);
    expect(created).toEqual([]);
    expect(await states(d.db, clock.now())).toEqual({ [r.activated]: 'active', [r.next]: 'next' });
    await s.g.keys.reload();
    expect(kidOf(await accessToken(s))).toBe(r.activated);
  });

  it('revoking the scheduled next key leaves a key signing after the planned switch time', async () => {
    const { s, d, clock } = await oneServer(engine);
    const k1 = kidOf(await accessToken(s));
    const r = (await rotateKeys(deps(s.g)))!;
    await revokeKey(deps(s.g), r.activated);
    await s.g.keys.reload();
    expect(kidOf(await accessToken(s))).toBe(k1);

    // The switch was planned for r.activatesAt; its key is gone. Something must still sign after it.
    setClock(clock, r.activatesAt + 1000);
    await maintain(s.g);
    const st = await states(d.db, clock.now());
    expect.soft(Object.values(st), `key states after the planned switch: ${JSON.stringify(st)}`).toContain('active');
    const res = await postJson(`${s.url}/auth/login`, { username: 'alice', password: PW });
    expect.soft(res.status, `login after the planned switch: ${res.body}`).toBe(200);
  });
});

describeEachEngine('restart and decryption (R-10)', (engine) => {
  it('a restart keeps the keys: same JWKS, same rows, tokens from before still valid, the same key signs', async () => {
    const d = await deployment(engine);
    const s1 = await d.start();
    await s1.addUser('alice', PW);
    const token = await accessToken(s1);
    const jwks = await fetchJwks(s1.url);
    const rows = await rowsOf(d.db);
    await d.stop(s1);

    d.clock.advance(60_000);
    const s2 = await d.start();
    expect((await fetchJwks(s2.url)).response.body).toBe(jwks.response.body);
    expect(await rowsOf(d.db)).toEqual(rows);
    await expectAccepted(s2, token, 'token issued before the restart');
    expect(kidOf(await accessToken(s2))).toBe(kidOf(token));
  });

  it('a restart keeps a scheduled rotation; a changed signing-alg applies only to keys made after it', async () => {
    const d = await deployment(engine);
    const s1 = await d.start();
    await s1.addUser('alice', PW);
    const old = await accessToken(s1);
    const r = (await rotateKeys(deps(s1.g)))!;
    await d.stop(s1);

    const s2 = await d.start({ 'signing-alg': 'EdDSA' });
    expect(await rowsOf(d.db)).toHaveLength(3);
    expect(kidOf(await accessToken(s2))).toBe(kidOf(old));
    setClock(d.clock, r.activatesAt);
    const fresh = await accessToken(s2);
    expect(decodeSegment(fresh, 0)).toMatchObject({ kid: r.activated, alg: 'ES256' });
    const next = (await rotateKeys(deps(s2.g)))!;
    await maintain(s2.g);
    const jwks = await fetchJwks(s2.url);
    expect(jwks.keys.find((k) => k.kid === next.next)).toMatchObject({ kty: 'OKP', alg: 'EdDSA' });
    await expectAccepted(s2, old);
    await expectAccepted(s2, fresh);
  });

  it('refuses to start when a stored private key does not decrypt, and creates no key in its place', async () => {
    const d = await deployment(engine);
    const s1 = await d.start();
    await d.stop(s1);
    const [row] = await rowsOf(d.db);
    const sealed = row!.private_jwk;
    const i = 20; // inside the base64url body: every bit of this character is part of the ciphertext or iv
    await setPrivateJwk(d.db, row!.kid, sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1));
    const before = await rowsOf(d.db);

    const err = await d.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    const message = (err as Error).message;
    expect(message).toContain(`signing key ${row!.kid} does not decrypt`);
    expect(message).toMatch(/secret key/i);
    expect(message).toContain('GATEHOUSE_SECRET_KEY');
    expect(await rowsOf(d.db)).toEqual(before);
    // The CLI (which never creates keys) refuses too.
    const list = await cli(d.db, ['keys', 'list']);
    expect(list.code, list.stderr).toBe(1);
    expect(list.stderr).toContain(`signing key ${row!.kid} does not decrypt`);
    expect(await rowsOf(d.db)).toEqual(before);
  });
});

describeEachEngine('several instances on one database', (engine) => {
  it('R-09: a rotation made through server A reaches server B; tokens of either verify on the other', async () => {
    const d = await deployment(engine);
    const [a, b] = [await d.start(), await d.start()];
    await a.addUser('alice', PW);
    expect(await jwksKids(b.url)).toEqual(await jwksKids(a.url));
    const k1 = kidOf(await accessToken(a));

    // --now, twice: the second activates a key B has never seen.
    const r1 = (await rotateKeys(deps(a.g), { immediately: true }))!;
    const r2 = (await rotateKeys(deps(a.g), { immediately: true }))!;
    expect(r2.activated).toBe(r1.next);
    await maintain(a.g);
    const fromA = await accessToken(a);
    expect(kidOf(fromA)).toBe(r2.activated);

    // B hears of the change through the change feed (SQLite change log, PostgreSQL NOTIFY, a few
    // ms later): without waiting for its timer, it verifies A's new token and signs with the new key.
    await vi.waitFor(async () => expect(kidOf(await accessToken(b))).toBe(r2.activated), { timeout: 5000, interval: 50 });
    await expectAccepted(b, fromA, 'token of a key B had not loaded');
    expect(await jwksKids(b.url)).toEqual(await jwksKids(a.url));
    expect(await jwksKids(b.url)).toEqual(sorted(k1, r1.activated, r2.activated, r2.next));
    const fromB = await accessToken(b);
    expect(kidOf(fromB)).toBe(r2.activated);
    await expectAccepted(a, fromB);
  });
});

describeEachEngine('gatehouse keys', (engine) => {
  it('list shows each key with its state; rotate prints the schedule; a second rotate is refused; --now brings it forward', async () => {
    const d = await deployment(engine);
    const s = await d.start();
    await d.stop(s);
    const rows = await rowsOf(d.db);
    const k1 = rows.find((r) => r.active_from !== null)!;
    const k2 = rows.find((r) => r.active_from === null)!;

    const list = await cli(d.db, ['keys', 'list']);
    expect([list.code, list.stderr]).toEqual([0, '']);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.startsWith(k1.kid))).toMatch(/^\S+\s+ES256\s+active\s+created \d{4}-/);
    expect(lines.find((l) => l.startsWith(k2.kid))).toMatch(/^\S+\s+ES256\s+next\s+created .* signs - \.\. -/);

    const rotate = await cli(d.db, ['keys', 'rotate']);
    expect([rotate.code, rotate.stderr]).toEqual([0, '']);
    const at = new Date(k2.created_at + PUBLISH_DELAY_MS).toISOString();
    const k3 = (await rowsOf(d.db)).find((r) => ![k1.kid, k2.kid].includes(r.kid))!.kid;
    expect(rotate.stdout).toBe(`key ${k2.kid} signs from ${at}; key ${k1.kid} retires then; new next key ${k3} is published now\n`);

    const again = await cli(d.db, ['keys', 'rotate']);
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toBe(`gatehouse: a rotation is already scheduled: key ${k2.kid} starts signing at ${at} (--now brings it forward)\n`);

    const now = await cli(d.db, ['keys', 'rotate', '--now']);
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(new RegExp(`^key ${k2.kid} signs from \\d{4}-\\S+; key ${k1.kid} retires then; new next key ${k3} is published now\\n$`));
    expect(now.stderr).toMatch(/^warning: --now skips the publish delay/);

    const json = await cli(d.db, ['keys', 'list', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(Object.fromEntries(listed.map((k) => [k.kid, k.state]))).toEqual({ [k1.kid]: 'retired', [k2.kid]: 'active', [k3]: 'next' });
    for (const k of listed) {
      expect(Object.keys(k).sort()).toEqual(['activeFrom', 'activeUntil', 'alg', 'createdAt', 'kid', 'publishedUntil', 'state']);
      expect(k.alg).toBe('ES256');
    }
    expect(listed.find((k) => k.kid === k3)).toMatchObject({ activeFrom: '-', activeUntil: '-', publishedUntil: '-' });
    expect(json.stdout).not.toMatch(/"d"|private|v1\./);
  });

  it('revoke removes a key and names the keys it made; an unknown kid exits 1 with a message; usage errors exit 2', async () => {
    const d = await deployment(engine);
    await d.stop(await d.start());
    const active = (await rowsOf(d.db)).find((r) => r.active_from !== null)!.kid;

    const unknown = await cli(d.db, ['keys', 'revoke', 'no-such-kid']);
    expect(unknown).toEqual({ code: 1, stdout: '', stderr: 'gatehouse: no signing key with kid no-such-kid\n' });
    expect(await rowsOf(d.db)).toHaveLength(2);

    const revoke = await cli(d.db, ['keys', 'revoke', active]);
    expect(revoke.code, revoke.stderr).toBe(0);
    const after = await rowsOf(d.db);
    expect(after.map((r) => r.kid)).not.toContain(active);
    expect(after).toHaveLength(2);
    const made = after.find((r) => r.active_from === null)!.kid;
    expect(revoke.stdout).toBe(`key ${active} is removed: tokens it signed are no longer accepted; new keys: ${made}\n`);

    for (const [args, message] of [
      [['keys'], /keys needs an action/],
      [['keys', 'explode'], /keys needs an action/],
      [['keys', 'revoke'], /needs a kid/],
      [['keys', 'list', 'extra'], /unexpected argument "extra"/],
      [['keys', 'rotate', '--frobnicate'], /unknown option --frobnicate/],
    ] as Array<[string[], RegExp]>) {
      const r = await cli(d.db, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('README: `keys revoke` on a leaked key takes effect on a running server at once', async () => {
    const { s, d, clock } = await oneServer(engine);
    const old = await accessToken(s);
    const leaked = kidOf(old);
    const revoke = await cli(d.db, ['keys', 'revoke', leaked]);
    expect(revoke.code, revoke.stderr).toBe(0);
    // The CLI runs on the system clock: bring the server's clock past it (well within any reload cooldown).
    setClock(clock, Math.max(clock.now(), Date.now() + 1000));
    // "Remove a key at once (a leaked key): tokens it signed stop working; another key takes over."
    const r = await bearer(`${s.url}${RESOURCE}`, old);
    expect.soft(r.status, 'token of the revoked key, on the running server').toBe(401);
    expect.soft(kidOf(await accessToken(s)), 'kid of a new token from the running server').not.toBe(leaked);
    expect.soft((await fetchJwks(s.url)).kids, 'JWKS of the running server').not.toContain(leaked);
    // Its periodic upkeep (every 30 s) does bring the server round:
    await maintain(s.g);
    await expectRejected(s, old, 'after maintenance');
    expect(kidOf(await accessToken(s))).not.toBe(leaked);
  });
});

describe('gatehouse keys as a process [sqlite]', { timeout: 60_000 }, () => {
  it('keys list --json parses; keys revoke <unknown> exits 1 with a message', async () => {
    const d = await deployment('sqlite');
    await d.stop(await d.start());
    const list = await gatehouseProcess(d.db, ['keys', 'list', '--json']);
    expect([list.code, list.stderr]).toEqual([0, '']);
    const keys = JSON.parse(list.stdout) as Array<{ kid: string; state: string }>;
    expect(keys.map((k) => k.kid).sort()).toEqual((await rowsOf(d.db)).map((r) => r.kid).sort());
    expect(keys.map((k) => k.state).sort()).toEqual(['active', 'next']);
    const revoke = await gatehouseProcess(d.db, ['keys', 'revoke', 'no-such-kid']);
    expect(revoke).toEqual({ code: 1, stdout: '', stderr: 'gatehouse: no signing key with kid no-such-kid\n' });
  });
});
