// Opening a database: SQLite (better-sqlite3, WAL, synchronous=FULL, a lock wait that never blocks: sqlite-driver.ts) or PostgreSQL (pg).
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type SchemaMetadata, type TableMetadata } from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { PostgresChangeFeed, SqliteChangeFeed, type ChangeFeed } from './change-feed.js';
import type { ClaimWriter } from './digest-nonces.js';
import type { Database } from './schema.js';
import { SqliteClaimLog } from './sqlite-claim-log.js';
import { GatehouseSqliteDialect, isBusy, LockWait } from './sqlite-driver.js';

export type Engine = 'sqlite' | 'postgres';

export interface Connection {
  db: Kysely<Database>;
  engine: Engine;
  /** A description safe to print: no password. */
  describe: string;
  /** PostgreSQL schema holding the tables (from ?schema=, else public). */
  schema: string | undefined;
  feed: ChangeFeed;
  /** A faster writer for Digest claims, where the engine has one. */
  claims?: ClaimWriter;
}

export interface ConnectOptions {
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  poolSize?: number;
}

// int8 (bigint) columns hold millisecond times and counters; read them as numbers.
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export async function connect(url: string, options: ConnectOptions = {}): Promise<Connection> {
  if (url.startsWith('sqlite:')) return connectSqlite(url.slice('sqlite:'.length), options);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return connectPostgres(url, options);
  throw new Error(`unsupported database URL (expected sqlite:<path> or postgres://…)`);
}

function connectSqlite(path: string, options: ConnectOptions): Connection {
  const memory = path === ':memory:';
  const file = memory ? path : resolve(path);
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const raw = new BetterSqlite3(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma(`synchronous = ${options.sqliteSynchronous ?? 'FULL'}`);
  raw.pragma('foreign_keys = ON');
  // Savepoint journals (group-commit.ts) and other temporary files stay in memory, not on disk.
  raw.pragma('temp_store = MEMORY');
  // Durability is a promise (catalogue R-03): check that SQLite took the settings.
  const mode = String(raw.pragma('journal_mode', { simple: true })).toLowerCase();
  if (!memory && mode !== 'wal') throw new Error(`SQLite refused WAL mode (got ${mode})`);
  const sync = Number(raw.pragma('synchronous', { simple: true }));
  const wanted = (options.sqliteSynchronous ?? 'FULL') === 'FULL' ? 2 : 1;
  if (sync !== wanted) throw new Error(`SQLite refused synchronous=${options.sqliteSynchronous ?? 'FULL'}`);
  const lock = new LockWait(raw);
  const db = new Kysely<Database>({ dialect: new GatehouseSqliteDialect(raw, lock) });
  return { db, engine: 'sqlite', describe: `sqlite:${file}`, schema: undefined, feed: new SqliteChangeFeed(raw), claims: sqliteClaims(raw, db, lock, options.sqliteSynchronous ?? 'FULL') };
}

async function connectPostgres(url: string, options: ConnectOptions): Promise<Connection> {
  // `?schema=name` keeps Gatehouse's tables in their own schema (created if missing).
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error('schema= must be a lower-case SQL identifier');
  const clientConfig: pg.ClientConfig = {
    connectionString: parsed.toString(),
    connectionTimeoutMillis: 5000,
    types: pgTypes,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
  const pool = new pg.Pool({
    ...clientConfig,
    max: options.poolSize ?? 10,
    idleTimeoutMillis: 30000,
  });
  // A dropped idle connection must not crash the process; the next query reports the outage.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
  if (schema) await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  const safe = new URL(parsed.toString());
  if (safe.password) safe.password = '***';
  return {
    db,
    engine: 'postgres',
    describe: safe.toString() + (schema ? ` (schema ${schema})` : ''),
    schema: schema ?? 'public',
    feed: new PostgresChangeFeed(clientConfig),
  };
}

/** Kysely's migrator asks the introspector whether its tables exist. The stock PostgreSQL
 * introspector reads every schema of the database through functions that fail when another client
 * drops a schema meanwhile, so a start could fail because of someone else's schema. This one looks
 * only at our own schema (the search_path's first), with plain catalog reads. */
class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

class OwnSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const r = await sql<{ name: string }>`select current_schema() as name`.execute(this.db);
    return r.rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const r = await sql<{ name: string; schema: string; kind: string }>`
      select c.relname as name, n.nspname as schema, c.relkind as kind
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v')`.execute(this.db);
    return r.rows.map((t) => ({ name: t.name, schema: t.schema, isView: t.kind === 'v', columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** Digest claims on SQLite go to an append-only log judged in memory (sqlite-claim-log.ts). Each
 * batch is one BEGIN IMMEDIATE transaction that never interleaves with a Kysely transaction.
 * These commits alone run with synchronous=NORMAL: waiting for the disk on every Digest request
 * would cost more than everything else the request does. A process crash keeps them (they are in
 * the WAL); an OS crash or power loss may lose the last ones, and the server then retires every
 * outstanding nonce at its next start (schemes/digest/nonce-epoch.ts), so no pair can be replayed.
 * Every other commit still waits for the disk, and each such commit makes the earlier claims durable. */
function sqliteClaims(raw: BetterSqlite3.Database, db: Kysely<Database>, lock: LockWait, synchronous: 'FULL' | 'NORMAL'): ClaimWriter {
  const log = new SqliteClaimLog(raw);
  const relaxed = raw.prepare('pragma synchronous = NORMAL');
  const restore = raw.prepare(`pragma synchronous = ${synchronous}`);
  const relaxedly = <T>(work: () => T): T => {
    relaxed.run();
    try {
      return work();
    } finally {
      restore.run();
    }
  };
  // better-sqlite3 runs a batch synchronously, so nothing of this process can interleave with it,
  // except a Kysely transaction open across awaits (Store.transaction). So the batch runs at once
  // when no transaction is open and the write lock is free; otherwise it waits, holding Kysely's
  // connection (no transaction of ours can start meanwhile), for the lock (sqlite-driver.ts).
  const exclusive = async <T>(work: () => T): Promise<T> => {
    if (!raw.inTransaction) {
      try {
        return lock.once(work);
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
    }
    return db.connection().execute(async () => lock.run(work));
  };
  return {
    write: (take) => exclusive(() => relaxedly(() => log.write(take))),
    purge: (now) => exclusive(() => log.purge(now)),
    recorded: async (nonce) => log.recorded(nonce),
  };
}
