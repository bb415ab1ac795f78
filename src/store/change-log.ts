// Cache invalidation between processes sharing one SQLite file. PostgreSQL tells every instance of
// a change with NOTIFY (change-feed.ts); SQLite has no such channel, and its data_version moves on
// every commit of any other process, which would empty every cache of every process on every token
// grant. So each change is appended to change_log (migration 006), in the writer's transaction when
// it has one, and each process reads the new rows (SqliteChangeFeed) before it trusts a cache.
import { sql, type Kysely } from 'kysely';
import type { Engine } from './connect.js';
import type { Database } from './schema.js';

/** Rows are kept this long; a process that did not look for longer empties all its caches. */
export const CHANGE_LOG_KEEP_MS = 10 * 60_000;

export class ChangeLogRepo {
  constructor(private readonly db: Kysely<Database>, private readonly engine: Engine) {}

  /** Tell the other processes of a change to one account's state (or to anything: undefined). */
  async record(account: string | undefined, at: number): Promise<void> {
    if (this.engine !== 'sqlite') return;
    await this.db.insertInto('change_log').values({ account: account ?? null, at }).execute();
  }

  /** Forget rows older than `before`, but never the newest: a reader that finds the row it saw last
   * gone knows that it may have missed some. */
  async purge(before: number): Promise<void> {
    if (this.engine !== 'sqlite') return;
    // By number, not by time: a row's time is taken before it waits for the write lock, so times
    // are not in the order of the numbers, and readers follow the numbers.
    await sql`delete from change_log where seq < coalesce((select min(seq) from change_log where at >= ${before}), (select max(seq) from change_log))`.execute(this.db);
  }
}
