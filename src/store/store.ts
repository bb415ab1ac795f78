// The data-access layer: one object over SQLite or PostgreSQL, one repository per aggregate.
import { Migrator, sql, type Kysely } from 'kysely';
import { connect, type ConnectOptions, type Engine } from './connect.js';
import { DigestCredentialsRepo } from './digest-credentials.js';
import { DigestNoncesRepo } from './digest-nonces.js';
import { LoginThrottleRepo } from './login-throttle.js';
import { MetaRepo } from './meta.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { UsersRepo } from './users.js';

export class Repos {
  readonly users: UsersRepo;
  readonly digestCredentials: DigestCredentialsRepo;
  readonly digestNonces: DigestNoncesRepo;
  readonly loginThrottle: LoginThrottleRepo;
  readonly meta: MetaRepo;

  constructor(readonly db: Kysely<Database>) {
    this.users = new UsersRepo(db);
    this.digestCredentials = new DigestCredentialsRepo(db);
    this.digestNonces = new DigestNoncesRepo(db);
    this.loginThrottle = new LoginThrottleRepo(db);
    this.meta = new MetaRepo(db);
  }
}

export class Store extends Repos {
  private constructor(db: Kysely<Database>, readonly engine: Engine, readonly describe: string, private readonly schema: string | undefined) {
    super(db);
  }

  static async open(url: string, options: ConnectOptions = {}): Promise<Store> {
    const c = await connect(url, options);
    return new Store(c.db, c.engine, c.describe, c.schema);
  }

  /** Apply pending migrations; returns the names applied. */
  async migrate(): Promise<string[]> {
    // The migration bookkeeping lives in our own schema: without this, Kysely would take another
    // deployment's tables in another schema of the same database for ours.
    const migrator = new Migrator({ db: this.db, provider: migrationProvider, ...(this.schema ? { migrationTableSchema: this.schema } : {}) });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /** Run `work` in one transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE), so a
   * read-then-write never fails on lock upgrade (catalogue ). */
  async transaction<T>(work: (repos: Repos) => Promise<T>): Promise<T> {
    if (this.engine === 'postgres') return this.db.transaction().execute((trx) => work(new Repos(trx)));
    return this.db.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const out = await work(new Repos(conn));
        await sql`commit`.execute(conn);
        return out;
      } catch (err) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw err;
      }
    });
  }

  /** A cheap round trip, for the readiness probe. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
