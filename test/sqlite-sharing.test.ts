// Several connections on one SQLite file (a server and the CLI, or two servers): waiting for the write
// lock never stops the event loop (store/sqlite-driver.ts), and caches are invalidated by the writes
// that concern them, read from the change log (store/change-log.ts), not by every commit of the others.
import BetterSqlite3 from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteClaimLog } from '../src/store/sqlite-claim-log.js';
import { Store } from '../src/store/store.js';
import type { UserRow } from '../src/store/users.js';
import { createTestDatabase, type TestDatabase } from './support/server.js';

function userRow(username: string): UserRow {
  const now = Date.now();
  return {
    id: randomUUID(), username, username_key: username, email: null, display_name: null,
    password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', disabled: 0, created_at: now, updated_at: now, email_verified: 0,
  };
}

const turn = () => new Promise((r) => setTimeout(r, 5));

describe('several connections on one SQLite file', () => {
  let db: TestDatabase;
  let store: Store;
  let other: Store;
  let raw: BetterSqlite3.Database;

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    store = await Store.open(db.url);
    await store.migrate();
    other = await Store.open(db.url);
    // A connection's first transaction may itself wait inside SQLite while another holds the lock
    // (it reads the file for the first time): a server has made its first writes at start.
    await other.digestNonces.claim('warm-up', 1, Date.now() + 60_000);
    raw = new BetterSqlite3(db.url.slice('sqlite:'.length));
  });
  afterEach(async () => {
    if (raw.inTransaction) raw.exec('rollback');
    raw.close();
    await other.close();
    await store.close();
    await db.drop();
  });

  it('a transaction waits for a write lock held elsewhere while the event loop runs on, then commits', async () => {
    raw.exec('begin immediate');
    let settled = false;
    const tx = store.transaction((repos) => repos.users.create(userRow('alice'))).finally(() => (settled = true));
    // SQLite's own busy handler would sleep this thread: no timer could fire and the holder below could
    // never commit, so the transaction would fail with SQLITE_BUSY after the busy timeout.
    await turn();
    await turn();
    expect(settled).toBe(false);
    raw.exec('commit');
    await tx;
    expect((await store.users.findByKey('alice'))?.username).toBe('alice');
  });

  it('a write outside a transaction waits the same way', async () => {
    raw.exec('begin immediate');
    let settled = false;
    const write = store.meta.putIfAbsent('probe', 'one').finally(() => (settled = true));
    await turn();
    expect(settled).toBe(false);
    raw.exec('commit');
    expect(await write).toBe('one');
  });

  it('Digest claims wait for the lock too, and stay single-use', async () => {
    raw.exec('begin immediate');
    const expires = Date.now() + 60_000;
    const claims = [store, store, other].map((s) => s.digestNonces.claim('n-1', 1, expires));
    await turn();
    raw.exec('commit');
    expect((await Promise.all(claims)).filter(Boolean)).toHaveLength(1);
  });

  it('claims that arrive while a batch waits for the lock join that batch: one commit for all', async () => {
    const batches: number[] = [];
    const write = SqliteClaimLog.prototype.write;
    const spy = vi.spyOn(SqliteClaimLog.prototype, 'write').mockImplementation(function (this: SqliteClaimLog, ...args: Parameters<typeof write>) {
      const won = write.apply(this, args);
      batches.push(won.length); // only batches that got the lock get here
      return won;
    });
    try {
      raw.exec('begin immediate');
      const expires = Date.now() + 60_000;
      const first = store.digestNonces.claim('n-2', 1, expires);
      await turn(); // the first batch is waiting for the lock now
      const later = [2, 3, 4].map((nc) => store.digestNonces.claim('n-2', nc, expires));
      await turn();
      raw.exec('commit');
      expect(await Promise.all([first, ...later])).toEqual([true, true, true, true]);
      expect(batches).toEqual([4]);
    } finally {
      spy.mockRestore();
    }
  });

  it("another connection's change to an account moves that account's cache token; its other writes move nothing", async () => {
    const alice = () => store.feed.token('account:alice');
    const bob = () => store.feed.token('account:bob');
    alice();
    await turn();
    const [a0, b0] = [alice(), bob()];
    // Writes that change no authentication decision (as every token grant does) leave caches alone.
    await other.meta.putIfAbsent('unrelated', 'x');
    await other.transaction((repos) => repos.meta.putIfAbsent('unrelated-2', 'y'));
    await turn();
    expect([alice(), bob()]).toEqual([a0, b0]);
    await other.transaction((repos) => repos.changed('account:bob'));
    await turn();
    expect(alice()).toBe(a0);
    expect(bob()).not.toBe(b0);
    // A change to anything (undefined) moves every token.
    const b1 = bob();
    await other.changed();
    await turn();
    expect(alice()).not.toBe(a0);
    expect(bob()).not.toBe(b1);
  });

  it('a reader that finds its last row purged takes everything as changed', async () => {
    const alice = () => store.feed.token('account:alice');
    await other.changeLog.record('account:bob', Date.now());
    alice();
    await turn();
    const before = alice();
    await other.changeLog.record('account:bob', Date.now() - 3_600_000);
    await other.changeLog.record('account:carol', Date.now() - 3_600_000);
    await other.changeLog.purge(Date.now() + 1000);
    const left = raw.prepare('select account from change_log').pluck().all();
    expect(left).toEqual(['account:carol']); // the newest row is never purged
    await turn();
    expect(alice()).not.toBe(before);
  });

  it('a reader that started on an empty log notices a purge too', async () => {
    const alice = () => store.feed.token('account:alice');
    alice(); // the first reading: the log is empty
    await turn();
    const before = alice();
    await other.changeLog.record('account:bob', Date.now() - 3_600_000);
    await other.changeLog.record('account:carol', Date.now() - 3_600_000);
    await other.changeLog.purge(Date.now());
    expect(raw.prepare('select seq from change_log').pluck().all()).toEqual([2]);
    await turn();
    expect(alice()).not.toBe(before);
  });

  it('the purge follows the numbers, not the times (a row may be stamped before it waited for the lock)', async () => {
    await other.changeLog.record('account:bob', Date.now());
    await other.changeLog.record('account:carol', Date.now() - 3_600_000);
    await other.changeLog.record('account:bob', Date.now());
    await other.changeLog.purge(Date.now() - 60_000);
    // Deleting carol's row alone would hide it from a reader that has seen the first row.
    expect(raw.prepare('select seq from change_log order by seq').pluck().all()).toEqual([1, 2, 3]);
  });

  it('a change log that cannot be read serves no cache (fail closed)', async () => {
    const token = () => store.feed.token('account:alice');
    token();
    await turn();
    expect(token()).toBeDefined();
    // Reading fails (as with an I/O error): here the table is replaced by a view whose reading fails.
    raw.exec('drop table change_log; create view change_log as select 1 as seq, abs(-9223372036854775808) as account');
    await turn();
    expect(token()).toBeUndefined();
  });
});
