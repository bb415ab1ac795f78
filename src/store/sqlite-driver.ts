// Kysely's SQLite driver, with two changes: prepared statements are kept (Kysely prepares every
// statement anew), and the wait for the write lock never stops the event loop.
//
// SQLite has one write lock per database file, shared by every process that opens it (the server
// and the CLI, or a second server on the file). Its busy handler waits for that lock by
// sleeping the thread: on Node.js, the whole server stops answering for a millisecond or more each
// time another process commits. Here a statement that takes the lock on its own (BEGIN IMMEDIATE,
// or a write outside a transaction) is tried without waiting, and when the lock is taken it is
// tried again after a timer, while the event loop serves other requests. After `timeoutMs` the
// SQLITE_BUSY error goes to the caller, as with busy_timeout. Inside a transaction nothing changes:
// it holds the lock already (Gatehouse's write transactions are BEGIN IMMEDIATE), and a deferred one
// (migrations) keeps SQLite's own busy_timeout.
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/** How long a statement waits for the write lock, as busy_timeout does. */
export const LOCK_TIMEOUT_MS = 5000;

/** How long the wait looks for the lock on every turn of the event loop before it uses timers. */
const SPIN_MS = 2;

/** Runs `attempt` (a statement that takes the write lock by itself) until it gets the lock. */
export class LockWait {
  private readonly noWait: BetterSqlite3.Statement;
  private readonly wait: BetterSqlite3.Statement;

  constructor(raw: BetterSqlite3.Database, private readonly timeoutMs = LOCK_TIMEOUT_MS) {
    raw.pragma(`busy_timeout = ${timeoutMs}`);
    this.noWait = raw.prepare('pragma busy_timeout = 0');
    this.wait = raw.prepare(`pragma busy_timeout = ${timeoutMs}`);
  }

  /** One try without waiting: throws SQLITE_BUSY when another connection holds the lock. */
  once<T>(attempt: () => T): T {
    this.noWait.run();
    try {
      return attempt();
    } finally {
      this.wait.run();
    }
  }

  async run<T>(attempt: () => T): Promise<T> {
    const start = performance.now();
    for (let timers = 0; ; ) {
      try {
        return this.once(attempt);
      } catch (err) {
        if (!isBusy(err) || performance.now() - start >= this.timeoutMs) throw err;
      }
      // The holder commits within about a millisecond (one disk flush), and a timer fires a
      // millisecond late at best: look again after each turn of the event loop for a while (a try
      // costs about a microsecond), then every millisecond, then every few.
      if (performance.now() - start < SPIN_MS) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, timers++ < 100 ? 1 : 4));
    }
  }
}

export const isBusy = (err: unknown) => typeof (err as { code?: unknown })?.code === 'string' && (err as { code: string }).code.startsWith('SQLITE_BUSY');

export class GatehouseSqliteDialect extends SqliteDialect {
  constructor(private readonly raw: BetterSqlite3.Database, private readonly lock: LockWait) {
    super({ database: raw });
  }

  override createDriver(): Driver {
    return new Sqlite(this.raw, this.lock);
  }
}

/** SQLite has one connection per process: a mutex hands it to one query or transaction at a time. */
class Sqlite implements Driver {
  private readonly connection: Connection;
  private queue: Promise<void> = Promise.resolve();
  private release: (() => void) | undefined;

  constructor(private readonly raw: BetterSqlite3.Database, lock: LockWait) {
    this.connection = new Connection(raw, lock);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((r) => (release = r));
    await previous;
    this.release = release;
    return this.connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  async beginTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(conn: DatabaseConnection): Promise<void> {
    await conn.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    this.raw.close();
  }
}

class Connection implements DatabaseConnection {
  /** The few hundred distinct statements Gatehouse runs, prepared once. */
  private readonly prepared = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly raw: BetterSqlite3.Database, private readonly lock: LockWait) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const stmt = this.prepare(query.sql);
    const parameters = query.parameters as unknown[];
    // A write outside a transaction, or BEGIN IMMEDIATE, takes the write lock: wait for it here.
    const locks = !stmt.readonly && !this.raw.inTransaction;
    if (stmt.reader) {
      const all = () => stmt.all(parameters) as R[];
      return { rows: locks ? await this.lock.run(all) : all() };
    }
    const run = () => stmt.run(parameters);
    const { changes, lastInsertRowid } = locks ? await this.lock.run(run) : run();
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not used');
  }

  private prepare(text: string): BetterSqlite3.Statement {
    let stmt = this.prepared.get(text);
    if (!stmt) {
      if (this.prepared.size >= 500) this.prepared.clear();
      stmt = this.raw.prepare(text);
      this.prepared.set(text, stmt);
    }
    return stmt;
  }
}
