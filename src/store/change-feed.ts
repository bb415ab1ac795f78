// Knowing, without a query, that nothing an authentication decision read has changed since.
// Every write to users or failed-login counters made through this process bumps an epoch: per
// account where the write names one, global otherwise. Writes by other processes are seen too:
//   SQLite      writers append to change_log (in their transaction when they have one), every
//               process reads it (change-log.ts);
//   PostgreSQL  writers send NOTIFY gatehouse_auth (in the same transaction), every instance LISTENs.
// token(account) is undefined when changes could be missed (the PostgreSQL listener is down); then
// nothing may be served from a cache.
import type BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

export const AUTH_CHANNEL = 'gatehouse_auth';

export class ChangeFeed {
  private global = 0;
  private readonly accounts = new Map<string, number>();
  /** Extra part of the token that only the engine knows (undefined: changes may be missed). */
  protected external: () => string | undefined = () => '';

  token(account: string): string | undefined {
    const ext = this.external();
    if (ext === undefined) return undefined;
    return `${ext}/${this.global}/${this.accounts.get(account) ?? 0}`;
  }

  /** A change to one account (its user row or its counter), or to everything when undefined. */
  bump(account?: string): void {
    if (account === undefined) {
      this.global++;
      return;
    }
    if (this.accounts.size > 100_000) {
      this.accounts.clear();
      this.global++;
    }
    this.accounts.set(account, (this.accounts.get(account) ?? 0) + 1);
  }

  async close(): Promise<void> {}
}

export class SqliteChangeFeed extends ChangeFeed {
  constructor(raw: BetterSqlite3.Database) {
    super();
    // Reading the log costs a few microseconds, so one reading serves for a millisecond: a change
    // committed by another process is seen by requests that start at most 1 ms after it.
    let newer: BetterSqlite3.Statement<[number], { seq: number; account: string | null }> | undefined;
    let seen = -1;
    let readAt = -Infinity;
    let failed = false;
    const read = () => {
      newer ??= raw.prepare('select seq, account from change_log where seq >= ? order by seq');
      if (seen < 0) {
        seen = Number(raw.prepare('select coalesce(max(seq), 0) from change_log').pluck().get());
        return;
      }
      const rows = newer.all(Math.max(seen, 1));
      // The row seen last (or, from an empty log, the first row ever) is gone: the purge ran past
      // it, so changes may have been missed.
      if (rows.length > 0 && rows[0]!.seq !== Math.max(seen, 1)) this.bump();
      if (seen > 0 && rows.length === 0) this.bump();
      for (const row of rows) {
        if (row.seq === seen) continue;
        this.bump(row.account ?? undefined);
        seen = row.seq;
      }
    };
    this.external = () => {
      const now = performance.now();
      // Inside a write transaction of this process the connection would see its uncommitted rows
      // (whose numbers a rollback gives out again): read between transactions only.
      if (now - readAt >= 1 && !raw.inTransaction) {
        readAt = now;
        try {
          read();
          failed = false;
        } catch (err) {
          // Before the migrations there is no table, and no cache holds anything. Any other failure
          // (I/O, a lock held through recovery) means changes may be missed: no cache may serve.
          failed = !/no such table/.test((err as Error).message);
          if (failed) readAt = -Infinity;
        }
      }
      return failed ? undefined : '';
    };
  }
}

const HEARTBEAT_MS = 10_000;

export class PostgresChangeFeed extends ChangeFeed {
  private client: pg.Client | undefined;
  private generation = 0;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly config: pg.ClientConfig) {
    super();
    this.external = () => (this.client ? String(this.generation) : undefined);
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    // TCP keep-alive, and a query every HEARTBEAT_MS that must answer within it: a connection that
    // died without a reset (a NAT or proxy dropping it) would otherwise never say so, and the caches
    // would go on trusting a token no notification can change any more.
    const client = new pg.Client({ ...this.config, keepAlive: true, keepAliveInitialDelayMillis: HEARTBEAT_MS });
    clearInterval(this.heartbeat);
    const heartbeat = (this.heartbeat = setInterval(() => {
      if (this.client !== client) return;
      const late = setTimeout(lost, HEARTBEAT_MS);
      late.unref();
      client.query('select 1').then(() => clearTimeout(late), () => {
        clearTimeout(late);
        lost();
      });
    }, HEARTBEAT_MS));
    heartbeat.unref();
    const lost = () => {
      clearInterval(heartbeat);
      if (this.client === client) this.client = undefined;
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      if (!this.closed && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.connect();
        }, 1000);
        this.retry.unref();
      }
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (n) => this.bump(n.payload ? n.payload : undefined));
    client
      .connect()
      .then(() => client.query(`listen ${AUTH_CHANNEL}`))
      .then(() => {
        if (this.closed) return void client.end().catch(() => {});
        // Anything may have changed while no one listened.
        this.generation++;
        this.client = client;
      })
      .catch(lost);
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => {});
      await c.end().catch(() => {});
    }
  }
}
