// The data-access layer on both engines: migrations, exactly-once races (catalogue R-05, R-06, ST-05),
// transactions, secrets at rest (ST-01, ST-02), the key check (R-10), cascades and SQLite durability (R-03).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toUser } from '../src/accounts/accounts.js';
import { createGatehouse, StartupError, type Gatehouse } from '../src/gatehouse.js';
import { Store } from '../src/store/store.js';
import { UsernameTakenError, type UserRow } from '../src/store/users.js';
import { describeEachEngine } from './support/engines.js';
import { createTestDatabase, testSettings, type TestDatabase } from './support/server.js';

const PASSWORD = 'correct horse battery staple';

function userRow(username: string): UserRow {
  const now = Date.now();
  return {
    id: randomUUID(), username, username_key: username.toLowerCase(), email: null, display_name: null,
    password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', disabled: 0, created_at: now, updated_at: now, email_verified: 0,
  };
}

function hex(alg: string, data: string): string {
  return createHash(alg).update(data).digest('hex');
}

/** Settle every promise and count winners and losers. */
async function settle<T>(work: Promise<T>[]): Promise<{ values: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(work);
  return {
    values: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : [])),
  };
}

describeEachEngine('store', (engine) => {
  let db: TestDatabase;
  let store: Store;
  let second: Store | undefined;

  beforeEach(async () => {
    db = await createTestDatabase(engine);
    store = await Store.open(db.url);
  });
  afterEach(async () => {
    await second?.close();
    second = undefined;
    await store.close();
    await db.drop();
  });

  it('applies each migration once; a second migrate applies nothing', async () => {
    expect(store.engine).toBe(engine);
    expect(await store.migrate()).toEqual(['001-initial', '002-tokens-and-sessions', '003-oauth', '004-oidc', '005-digest-claim-log', '006-change-log']);
    expect(await store.migrate()).toEqual([]);
    second = await Store.open(db.url);
    expect(await second.migrate()).toEqual([]);
    expect(await store.users.list()).toEqual([]);
    // Another database (PostgreSQL: another schema of the same database) keeps its own record.
    const other = await createTestDatabase(engine);
    const otherStore = await Store.open(other.url);
    try {
      expect(await otherStore.migrate()).toEqual(['001-initial', '002-tokens-and-sessions', '003-oauth', '004-oidc', '005-digest-claim-log', '006-change-log']);
      expect(await otherStore.migrate()).toEqual([]);
    } finally {
      await otherStore.close();
      await other.drop();
    }
  });

  it('an upgrade keeps every Digest pair used before it single-use (005 moves them to the SQLite claim log)', async () => {
    expect(await store.migrate('004-oidc')).toHaveLength(4);
    const nonce = randomBytes(16).toString('base64url');
    const expires = Date.now() + 60_000;
    await store.db.insertInto('digest_nonce_uses').values([1, 2, 9].map((nc) => ({ nonce, nc, expires_at: expires }))).execute();
    expect(await store.migrate()).toEqual(['005-digest-claim-log', '006-change-log']);
    second = await Store.open(db.url);
    for (const s of [store, second]) for (const nc of [1, 2, 9]) expect(await s.digestNonces.claim(nonce, nc, expires)).toBe(false);
    expect(await second.digestNonces.claim(nonce, 3, expires)).toBe(true);
    expect(await store.digestNonces.recorded(nonce)).toEqual([1, 2, 3, 9]);
  });

  describe('races: exactly one winner', () => {
    beforeEach(async () => {
      await store.migrate();
      second = await Store.open(db.url);
    });

    it('50 parallel claims of one (nonce, nc) → exactly one true', async () => {
      const nonce = randomBytes(16).toString('base64url');
      const expires = Date.now() + 60_000;
      const wins = await Promise.all(Array.from({ length: 50 }, () => store.digestNonces.claim(nonce, 1, expires)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      // Another nc of the same nonce is its own resource.
      expect(await store.digestNonces.claim(nonce, 2, expires)).toBe(true);
      expect(await store.digestNonces.claim(nonce, 2, expires)).toBe(false);
    });

    it('a burst mixing 20 distinct counts, each sent 3 times, in parallel → each count wins exactly once', async () => {
      const nonce = randomBytes(16).toString('base64url');
      const expires = Date.now() + 60_000;
      const ncs = Array.from({ length: 60 }, (_, i) => (i % 20) + 1);
      const wins = await Promise.all(ncs.map((nc) => store.digestNonces.claim(nonce, nc, expires)));
      const winners = ncs.filter((_, i) => wins[i]).sort((a, b) => a - b);
      expect(winners).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.digestNonces.recorded(nonce)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('purgeExpired forgets the pairs of expired nonces only', async () => {
      const now = Date.now();
      const old = randomBytes(16).toString('base64url');
      const live = randomBytes(16).toString('base64url');
      expect(await store.digestNonces.claim(old, 1, now - 1)).toBe(true);
      expect(await store.digestNonces.claim(live, 1, now + 60_000)).toBe(true);
      expect(await store.digestNonces.purgeExpired(now)).toBeGreaterThanOrEqual(1);
      expect(await store.digestNonces.recorded(old)).toEqual([]);
      expect(await store.digestNonces.recorded(live)).toEqual([1]);
    });

    it('a Store opened after claims were made refuses them, and another Store sees claims made after a purge', async () => {
      const now = Date.now();
      const nonce = randomBytes(16).toString('base64url');
      expect(await store.digestNonces.claim(nonce, 1, now + 60_000)).toBe(true);
      expect(await second!.digestNonces.claim(nonce, 2, now + 60_000)).toBe(true);
      const third = await Store.open(db.url);
      try {
        expect(await third.digestNonces.claim(nonce, 1, now + 60_000)).toBe(false);
        expect(await third.digestNonces.claim(nonce, 2, now + 60_000)).toBe(false);
        expect(await third.digestNonces.claim(nonce, 3, now + 60_000)).toBe(true);
        // Every pair so far expired: the purge empties the log. Claims made after it (rowids never used
        // again) by one Store are still seen by the others.
        expect(await second!.digestNonces.claim(nonce, 4, now + 60_000)).toBe(true);
        await store.digestNonces.purgeExpired(now + 120_000);
        const later = randomBytes(16).toString('base64url');
        expect(await store.digestNonces.claim(later, 1, now + 600_000)).toBe(true);
        expect(await second!.digestNonces.claim(later, 1, now + 600_000)).toBe(false);
        expect(await third.digestNonces.claim(later, 1, now + 600_000)).toBe(false);
        expect(await third.digestNonces.claim(later, 2, now + 600_000)).toBe(true);
        expect(await store.digestNonces.claim(later, 2, now + 600_000)).toBe(false);
      } finally {
        await third.close();
      }
    });

    it('counts far apart and far up are each single-use (a bitmap grown on demand, a set above 2^20)', async () => {
      const nonce = randomBytes(16).toString('base64url');
      const expires = Date.now() + 60_000;
      for (const nc of [1, 31, 32, 33, 5000, 70_000, 1_048_575, 1_048_576, 0xfffffffe]) {
        expect(await store.digestNonces.claim(nonce, nc, expires)).toBe(true);
        expect(await store.digestNonces.claim(nonce, nc, expires)).toBe(false);
        expect(await second!.digestNonces.claim(nonce, nc, expires)).toBe(false);
      }
      expect(await second!.digestNonces.claim(nonce, 34, expires)).toBe(true);
    });

    it('50 parallel claims split across two Store objects → exactly one true', async () => {
      const nonce = randomBytes(16).toString('base64url');
      const expires = Date.now() + 60_000;
      const wins = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? second! : store).digestNonces.claim(nonce, 7, expires)),
      );
      expect(wins.filter(Boolean)).toHaveLength(1);
    });

    it('50 parallel users.create with one username key → one user, 49 UsernameTakenError', async () => {
      const { values, errors } = await settle(Array.from({ length: 50 }, () => store.users.create(userRow('racer'))));
      expect(values).toHaveLength(1);
      expect(errors).toHaveLength(49);
      for (const e of errors) expect(e).toBeInstanceOf(UsernameTakenError);
      expect((await store.users.list()).filter((u) => u.username_key === 'racer')).toHaveLength(1);
    });

    it('50 parallel users.create across two Store objects → one user', async () => {
      const { values, errors } = await settle(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? second! : store).users.create(userRow(i % 3 ? 'Racer' : 'racer'))),
      );
      expect(values).toHaveLength(1);
      for (const e of errors) expect(e).toBeInstanceOf(UsernameTakenError);
      expect(await second!.users.list()).toHaveLength(1);
    });

    it('50 parallel user-creating transactions → one commits, the rest roll back', async () => {
      const { values, errors } = await settle(
        Array.from({ length: 50 }, () =>
          store.transaction(async (tx) => {
            const row = userRow('txracer');
            await tx.users.create(row);
            await tx.digestCredentials.replaceForUser(row.id, [
              { user_id: row.id, realm: 'r', algorithm: 'SHA-256', userhash: 'u', ha1: 'v1.x', created_at: row.created_at },
            ]);
            return row.id;
          }),
        ),
      );
      expect(values).toHaveLength(1);
      for (const e of errors) expect(e).toBeInstanceOf(UsernameTakenError);
      const users = await store.users.list();
      expect(users.map((u) => u.id)).toEqual(values);
      const rows = await store.db.selectFrom('digest_credentials').select('user_id').execute();
      expect(rows.map((r) => r.user_id)).toEqual(values);
    });

    it('50 parallel countInWindow on one key → failures == 50 (no lost update)', async () => {
      const now = Date.now();
      const rows = await Promise.all(
        Array.from({ length: 50 }, () => store.loginThrottle.countInWindow('account:alice', now, now - 3_600_000)),
      );
      expect(rows.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      const [row] = await store.loginThrottle.read(['account:alice']);
      expect(row?.failures).toBe(50);
    });

    it('50 parallel countInWindow across two Store objects → failures == 50', async () => {
      const now = Date.now();
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? second! : store).loginThrottle.countInWindow('ip:10.0.0.1', now, now - 3_600_000),
        ),
      );
      const [row] = await second!.loginThrottle.read(['ip:10.0.0.1']);
      expect(row?.failures).toBe(50);
    });

    it('50 parallel reservations with 3 free attempts → exactly 4 get through (counts 1..4), across two Store objects', async () => {
      const now = Date.now();
      const r = { key: 'account:bob', now, restartBefore: now - 3_600_000, sticky: 50, free: 3, blockUntil: now + 10_000 };
      const got = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? second! : store).loginThrottle.reserve(r)));
      expect(got.filter((c) => c !== undefined).sort()).toEqual([1, 2, 3, 4]);
      const [row] = await store.loginThrottle.read(['account:bob']);
      expect(row).toMatchObject({ failures: 4, blocked_until: now + 10_000 });
      // Once the hold is over, exactly one more gets through.
      const later = { ...r, now: now + 10_000, blockUntil: now + 20_000 };
      const next = await Promise.all(Array.from({ length: 20 }, () => store.loginThrottle.reserve(later)));
      expect(next.filter((c) => c !== undefined)).toEqual([5]);
    });
  });

  describe('transactions', () => {
    beforeEach(async () => {
      await store.migrate();
    });

    it('rolls back everything written when the work throws', async () => {
      const row = userRow('ghost');
      await expect(
        store.transaction(async (tx) => {
          await tx.users.create(row);
          await tx.meta.putIfAbsent('tx-test', 'written');
          expect(await tx.users.findById(row.id)).toBeDefined();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.users.findById(row.id)).toBeUndefined();
      expect(await store.meta.get('tx-test')).toBeUndefined();
    });

    it('rolls back the first write when a later statement fails', async () => {
      await store.users.create(userRow('taken'));
      const row = userRow('fresh');
      await expect(
        store.transaction(async (tx) => {
          await tx.users.create(row);
          await tx.users.create(userRow('taken'));
        }),
      ).rejects.toBeInstanceOf(UsernameTakenError);
      expect(await store.users.findById(row.id)).toBeUndefined();
    });

    it('commits when the work succeeds and returns its value', async () => {
      const row = userRow('kept');
      const out = await store.transaction(async (tx) => {
        await tx.users.create(row);
        return 'done';
      });
      expect(out).toBe('done');
      expect((await store.users.findById(row.id))?.username).toBe('kept');
      // The store is usable after a rollback too.
      await expect(store.transaction(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
      await store.transaction(async (tx) => tx.meta.putIfAbsent('after', 'ok'));
      expect(await store.meta.get('after')).toBe('ok');
    });

    it('overlapping transactions: the one that throws is rolled back alone, the others commit (SQLite: one shared commit)', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.meta.put(`overlap-${i}`, 'written');
            if (i % 3 === 1) throw new Error(`unit ${i} fails`);
            expect(await tx.meta.get(`overlap-${i}`)).toBe('written');
            return i;
          }),
        ),
      );
      for (const [i, o] of outcomes.entries()) {
        if (i % 3 === 1) {
          expect(o).toMatchObject({ status: 'rejected', reason: { message: `unit ${i} fails` } });
          expect(await store.meta.get(`overlap-${i}`)).toBeUndefined();
        } else {
          expect(o).toEqual({ status: 'fulfilled', value: i });
          expect(await store.meta.get(`overlap-${i}`)).toBe('written');
        }
      }
      // What a committed transaction wrote is visible to another connection once its caller hears back.
      second = await Store.open(db.url);
      expect(await second.meta.get('overlap-0')).toBe('written');
    });

    it('a transaction ended under the others fails every transaction that shared its commit, and keeps none of their writes', async () => {
      const work = (i: number) =>
        store.transaction(async (tx) => {
          await tx.meta.put(`shared-${i}`, 'written');
          // Simulates a failure that ends the whole transaction (a disk error on SQLite).
          if (i === 2) await sql`rollback`.execute(tx.db);
          return i;
        });
      const outcomes = await Promise.allSettled([0, 1, 2, 3].map(work));
      if (engine === 'sqlite') {
        // One commit for all four: none may report success, none of their writes may stay.
        expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
        for (const i of [0, 1, 2, 3]) expect(await store.meta.get(`shared-${i}`)).toBeUndefined();
      } else {
        // PostgreSQL: a transaction each; only the one that ended its own is lost.
        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', expect.any(String), 'fulfilled']);
        expect(await store.meta.get('shared-2')).toBeUndefined();
      }
      // The store goes on working.
      await store.transaction(async (tx) => tx.meta.put('after-failure', 'ok'));
      expect(await store.meta.get('after-failure')).toBe('ok');
    });
  });

  it('removing a user removes its digest credentials (cascade)', async () => {
    await store.migrate();
    const keep = userRow('keep');
    const gone = userRow('gone');
    for (const u of [keep, gone]) {
      await store.users.create(u);
      await store.digestCredentials.replaceForUser(u.id, ['SHA-256', 'SHA-512-256'].map((algorithm) => ({
        user_id: u.id, realm: 'gatehouse', algorithm, userhash: `${u.username}-${algorithm}`, ha1: 'v1.x', created_at: 1,
      })));
    }
    expect(await store.users.remove(gone.id)).toBe(true);
    expect(await store.users.remove(gone.id)).toBe(false);
    expect(await store.digestCredentials.listForUser(gone.id)).toEqual([]);
    const left = await store.db.selectFrom('digest_credentials').select('user_id').execute();
    expect(left.map((r) => r.user_id)).toEqual([keep.id, keep.id]);
  });

  describe('through a Gatehouse', () => {
    let g: Gatehouse | undefined;
    afterEach(async () => {
      await g?.close();
      g = undefined;
    });

    it('stores the password as an argon2id PHC string, parameters in the PHC order m,t,p', async () => {
      g = await createGatehouse(testSettings(db));
      await g.accounts.create({ username: 'alice', password: PASSWORD });
      const row = await store.users.findByKey('alice');
      expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$/);
      // PHC string format, Argon2 encoding: "The parameters shall appear in the m,t,p,keyid,data order";
      // spec-following verifiers (libargon2's decoder, other stacks) reject any other order.
      expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    });

    it('stores a hash and sealed H(A1) for SHA-256 and SHA-512-256 only, never plaintext', async () => {
      g = await createGatehouse(testSettings(db));
      const user = await g.accounts.create({ username: 'alice', password: PASSWORD });
      const row = await store.users.findByKey('alice');
      expect(row?.password_hash).toMatch(/^\$argon2id\$/);
      expect(JSON.stringify(row)).not.toContain(PASSWORD);

      const creds = await store.digestCredentials.listForUser(user.id);
      expect(creds.map((c) => c.algorithm).sort()).toEqual(['SHA-256', 'SHA-512-256']);
      for (const c of creds) {
        const ha1 = hex(c.algorithm === 'SHA-256' ? 'sha256' : 'sha512-256', `alice:gatehouse:${PASSWORD}`);
        expect(c.ha1.startsWith('v1.')).toBe(true);
        expect(c.ha1).not.toContain(ha1);
        expect(JSON.stringify(c)).not.toContain(PASSWORD);
        // The sealed value is that H(A1), under the server key.
        expect(g.digest.secrets.open(c)).toBe(ha1);
      }
      const md5 = hex('md5', `alice:gatehouse:${PASSWORD}`);
      const all = await store.db.selectFrom('digest_credentials').selectAll().execute();
      expect(JSON.stringify(all)).not.toContain(md5);
    });

    it('stores an MD5 H(A1) as well when MD5 is enabled', async () => {
      g = await createGatehouse(testSettings(db, { 'digest-algorithms': 'SHA-256,SHA-512-256,MD5' }));
      const user = await g.accounts.create({ username: 'alice', password: PASSWORD });
      const creds = await store.digestCredentials.listForUser(user.id);
      expect(creds.map((c) => c.algorithm).sort()).toEqual(['MD5', 'SHA-256', 'SHA-512-256']);
      const md5Row = creds.find((c) => c.algorithm === 'MD5')!;
      const md5 = hex('md5', `alice:gatehouse:${PASSWORD}`);
      expect(md5Row.ha1.startsWith('v1.')).toBe(true);
      expect(md5Row.ha1).not.toContain(md5);
      expect(g.digest.secrets.open(md5Row)).toBe(md5);
    });

    it('never lets the password hash out of toUser() or accounts.list()', async () => {
      g = await createGatehouse(testSettings(db));
      await g.accounts.create({ username: 'alice', password: PASSWORD, email: 'alice@example.com' });
      const row = (await store.users.findByKey('alice'))!;
      for (const u of [toUser(row), ...(await g.accounts.list()), (await g.accounts.find('ALICE'))!]) {
        expect(Object.keys(u).sort()).toEqual(['createdAt', 'disabled', 'displayName', 'email', 'id', 'updatedAt', 'username']);
        expect(JSON.stringify(u)).not.toContain('$argon2');
      }
    });

    it('accounts.remove deletes the digest credentials with the user', async () => {
      g = await createGatehouse(testSettings(db));
      const user = await g.accounts.create({ username: 'alice', password: PASSWORD });
      expect(await store.digestCredentials.listForUser(user.id)).toHaveLength(2);
      await g.accounts.remove('alice');
      expect(await store.users.findById(user.id)).toBeUndefined();
      expect(await store.digestCredentials.listForUser(user.id)).toEqual([]);
    });

    it('refuses to start on a database set up under another secret key', async () => {
      g = await createGatehouse(testSettings(db));
      await g.accounts.create({ username: 'alice', password: PASSWORD });
      await g.close();
      g = undefined;
      const other = randomBytes(32).toString('hex');
      const err: unknown = await createGatehouse(testSettings(db, { 'secret-key': other })).then(
        async (wrong) => {
          await wrong.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(/secret key does not match/);
      // The original key still opens it, and the refused start changed nothing.
      g = await createGatehouse(testSettings(db));
      expect((await g.accounts.list()).map((u) => u.username)).toEqual(['alice']);
      const row = (await store.digestCredentials.listForUser((await g.accounts.find('alice'))!.id))[0]!;
      expect(g.digest.secrets.open(row)).toMatch(/^[0-9a-f]{64}$/);
    });
  });
});

describe('SQLite durability pragmas', () => {
  let db: TestDatabase;
  const opened: Store[] = [];
  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await db.drop();
  });

  async function pragma(store: Store, name: string): Promise<unknown> {
    const r = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(store.db);
    return Object.values(r.rows[0] ?? {})[0];
  }

  it('uses journal_mode=wal, synchronous=FULL and foreign keys by default', async () => {
    const store = await Store.open(db.url);
    opened.push(store);
    await store.migrate();
    expect(String(await pragma(store, 'journal_mode')).toLowerCase()).toBe('wal');
    expect(Number(await pragma(store, 'synchronous'))).toBe(2);
    expect(Number(await pragma(store, 'foreign_keys'))).toBe(1);
    expect(Number(await pragma(store, 'busy_timeout'))).toBeGreaterThan(0);
  });

  it('uses synchronous=NORMAL only when asked, still in WAL mode', async () => {
    const store = await Store.open(db.url, { sqliteSynchronous: 'NORMAL' });
    opened.push(store);
    expect(Number(await pragma(store, 'synchronous'))).toBe(1);
    expect(String(await pragma(store, 'journal_mode')).toLowerCase()).toBe('wal');
  });
});
