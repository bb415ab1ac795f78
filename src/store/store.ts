// The data-access layer: one object over SQLite or PostgreSQL, one repository per aggregate.
import { Migrator, sql, type Kysely } from 'kysely';
import { AUTH_CHANNEL, type ChangeFeed } from './change-feed.js';
import { connect, type ConnectOptions, type Engine } from './connect.js';
import { ChangeLogRepo } from './change-log.js';
import { GroupCommit } from './group-commit.js';
import { DigestCredentialsRepo } from './digest-credentials.js';
import { DigestNoncesRepo, type ClaimWriter } from './digest-nonces.js';
import { LoginThrottleRepo } from './login-throttle.js';
import { AccessTokensRepo } from './access-tokens.js';
import { AuthorizationCodesRepo } from './authorization-codes.js';
import { ClientsRepo } from './clients.js';
import { ConsentsRepo } from './consents.js';
import { MetaRepo } from './meta.js';
import { RefreshTokensRepo } from './refresh-tokens.js';
import { SessionsRepo } from './sessions.js';
import { SessionClientsRepo } from './session-clients.js';
import { SigningKeysRepo } from './signing-keys.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';
import { UsersRepo } from './users.js';

/** Told of every write that can change an authentication decision (see change-feed.ts). */
export interface Changes {
  /** A change to one account's state (key "account:<username key>"), or to anything (undefined). */
  changed(account?: string): Promise<void>;
}

export class Repos implements Changes {
  readonly users: UsersRepo;
  readonly digestCredentials: DigestCredentialsRepo;
  readonly digestNonces: DigestNoncesRepo;
  readonly loginThrottle: LoginThrottleRepo;
  readonly meta: MetaRepo;
  readonly signingKeys: SigningKeysRepo;
  readonly refreshTokens: RefreshTokensRepo;
  readonly sessions: SessionsRepo;
  readonly clients: ClientsRepo;
  readonly authorizationCodes: AuthorizationCodesRepo;
  readonly consents: ConsentsRepo;
  readonly accessTokens: AccessTokensRepo;
  readonly sessionClients: SessionClientsRepo;
  readonly changeLog: ChangeLogRepo;

  /** Inside a transaction, local bumps wait for the commit (`deferred`), so that no reader can
   * cache what the transaction had not yet committed under a token that will not change again. */
  constructor(
    readonly db: Kysely<Database>,
    readonly engine: Engine,
    readonly feed: ChangeFeed,
    private readonly deferred?: Array<string | undefined>,
    claims?: ClaimWriter,
  ) {
    this.users = new UsersRepo(db, this);
    this.digestCredentials = new DigestCredentialsRepo(db, this);
    this.digestNonces = new DigestNoncesRepo(db, claims);
    this.loginThrottle = new LoginThrottleRepo(db, this);
    this.meta = new MetaRepo(db, engine);
    this.signingKeys = new SigningKeysRepo(db);
    this.accessTokens = new AccessTokensRepo(db, this);
    this.refreshTokens = new RefreshTokensRepo(db, engine, this.accessTokens);
    this.sessions = new SessionsRepo(db);
    this.clients = new ClientsRepo(db, this);
    this.authorizationCodes = new AuthorizationCodesRepo(db);
    this.consents = new ConsentsRepo(db);
    this.sessionClients = new SessionClientsRepo(db);
    this.changeLog = new ChangeLogRepo(db, engine);
  }

  async changed(account?: string): Promise<void> {
    // Outside a transaction the write has committed already: this process stops trusting its caches
    // at once, even if telling the others fails (as a NOTIFY or change-log row after an autocommit
    // write can, on either engine: their caches then end at their TTL).
    if (this.deferred) this.deferred.push(account);
    else this.feed.bump(account);
    if (this.engine === 'postgres') await sql`select pg_notify(${AUTH_CHANNEL}, ${account ?? ''})`.execute(this.db);
    else await this.changeLog.record(account, Date.now());
  }
}

export class Store extends Repos {
  private constructor(db: Kysely<Database>, engine: Engine, feed: ChangeFeed, readonly describe: string, private readonly schema: string | undefined, claims?: ClaimWriter) {
    super(db, engine, feed, undefined, claims);
    this.group = new GroupCommit(db);
  }

  private readonly group: GroupCommit;

  static async open(url: string, options: ConnectOptions = {}): Promise<Store> {
    const c = await connect(url, options);
    return new Store(c.db, c.engine, c.feed, c.describe, c.schema, c.claims);
  }

  /** Apply pending migrations; returns the names applied. */
  /** Apply the pending migrations, or those up to and including `to` (tests of upgrades). */
  async migrate(to?: string): Promise<string[]> {
    // The migration bookkeeping lives in our own schema: without this, Kysely would take another
    // deployment's tables in another schema of the same database for ours.
    const migrator = new Migrator({ db: this.db, provider: migrationProvider, ...(this.schema ? { migrationTableSchema: this.schema } : {}) });
    const { error, results } = await (to === undefined ? migrator.migrateToLatest() : migrator.migrateTo(to));
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /** Run `work` in one transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE), so a
   * read-then-write never fails on lock upgrade (catalogue ), and transactions that overlap
   * share one commit (group-commit.ts). `work` must do its reads and writes through the repos it is
   * given and nothing slow besides: every transaction in the batch waits for it. */
  async transaction<T>(work: (repos: Repos) => Promise<T>): Promise<T> {
    const bumps: Array<string | undefined> = [];
    const out =
      this.engine === 'postgres'
        ? await this.db.transaction().execute((trx) => work(new Repos(trx, this.engine, this.feed, bumps)))
        : await this.group.run((conn) => work(new Repos(conn, this.engine, this.feed, bumps)));
    for (const account of bumps) this.feed.bump(account);
    return out;
  }

  /** A cheap round trip, for the readiness probe. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.db.destroy();
  }
}
