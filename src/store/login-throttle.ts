import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, LoginThrottleTable } from './schema.js';

export type ThrottleRow = Selectable<LoginThrottleTable>;

export class LoginThrottleRepo {
  constructor(private readonly db: Kysely<Database>) {}

  read(keys: string[]): Promise<ThrottleRow[]> {
    return this.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
  }

  /** Count one failure atomically. A counter whose window began at or before `restartBefore` starts
   * again at 1. `restartOn` picks which time decides: the window start (fixed windows) or the last
   * failure (consecutive failures forgiven after quiet). Returns the count after this failure. */
  async recordFailure(key: string, now: number, restartBefore: number, restartOn: 'window_start' | 'updated_at'): Promise<ThrottleRow> {
    const col = sql.ref(`login_throttle.${restartOn}`);
    const row = await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, blocked_until: 0, updated_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`case when ${col} <= ${restartBefore} then 1 else login_throttle.failures + 1 end`,
          window_start: sql<number>`case when ${col} <= ${restartBefore} then ${now} else login_throttle.window_start end`,
          blocked_until: sql<number>`case when ${col} <= ${restartBefore} then 0 else login_throttle.blocked_until end`,
          updated_at: now,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return row;
  }

  /** Move the block later, never earlier (racing failures may finish out of order). */
  async extendBlock(key: string, until: number): Promise<void> {
    await this.db.updateTable('login_throttle').set({ blocked_until: until }).where('key', '=', key).where('blocked_until', '<', until).execute();
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', '=', key).execute();
  }
}
