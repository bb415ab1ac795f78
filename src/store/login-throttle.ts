import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, LoginThrottleTable } from './schema.js';
import type { Changes } from './store.js';

/** A millisecond time as a bigint parameter: PostgreSQL would guess integer inside CASE. */
const ms = (t: number) => sql<number>`cast(${t} as bigint)`;

export type ThrottleRow = Selectable<LoginThrottleTable>;

export interface Reservation {
  key: string;
  now: number;
  /** A counter whose last attempt is at or before this time starts again at 1 … */
  restartBefore: number;
  /** … unless it has reached this many (a hard lock does not wear off). */
  sticky: number;
  /** Attempts past this many take the block below while they are being checked. */
  free: number;
  blockUntil: number;
}

export class LoginThrottleRepo {
  constructor(private readonly db: Kysely<Database>, private readonly changes: Changes) {}

  /** A counter changes what was read under its key ("account:…" or "ip:…"; see throttle/login-throttle.ts,
   * whose cached verdicts depend on both keys they read). */
  private changed(key: string): Promise<void> {
    return this.changes.changed(key.startsWith('account:') || key.startsWith('ip:') ? key : undefined);
  }

  read(keys: string[]): Promise<ThrottleRow[]> {
    return this.db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
  }

  /** Count one attempt in a fixed window, atomically; the window restarts when it began at or before
   * `restartBefore`. Returns the count including this attempt. */
  async countInWindow(key: string, now: number, restartBefore: number): Promise<number> {
    const old = sql`login_throttle.window_start <= ${ms(restartBefore)}`;
    const row = await this.db
      .insertInto('login_throttle')
      .values({ key, failures: 1, window_start: now, blocked_until: 0, updated_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql<number>`case when ${old} then 1 else login_throttle.failures + 1 end`,
          window_start: sql<number>`case when ${old} then ${ms(now)} else login_throttle.window_start end`,
          updated_at: now,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    await this.changed(key);
    return row.failures;
  }

  /** Take one attempt for an account, atomically: only when the account is not blocked now, the
   * count goes up by one and, past `free`, the block is set at once, so that of any number of
   * parallel attempts no more get through than sequential ones would. Returns the count including
   * this attempt, or undefined when the account is blocked. */
  async reserve(r: Reservation): Promise<number | undefined> {
    const restart = sql`login_throttle.updated_at <= ${ms(r.restartBefore)} and login_throttle.failures < ${r.sticky}`;
    const count = sql`case when ${restart} then 1 else login_throttle.failures + 1 end`;
    const row = await this.db
      .insertInto('login_throttle')
      .values({ key: r.key, failures: 1, window_start: r.now, blocked_until: 1 > r.free ? r.blockUntil : 0, updated_at: r.now })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({
            failures: sql<number>`${count}`,
            window_start: sql<number>`case when ${restart} then ${ms(r.now)} else login_throttle.window_start end`,
            blocked_until: sql<number>`case when ${count} > ${r.free} then ${ms(r.blockUntil)} else ${ms(0)} end`,
            updated_at: r.now,
          })
          .where('login_throttle.blocked_until', '<=', r.now),
      )
      .returning('failures')
      .executeTakeFirst();
    if (row) await this.changed(r.key);
    return row?.failures;
  }

  async setBlock(key: string, until: number): Promise<void> {
    await this.db.updateTable('login_throttle').set({ blocked_until: until }).where('key', '=', key).execute();
    await this.changed(key);
  }

  /** Take back one counted attempt (it turned out to be a success). */
  async uncount(key: string): Promise<void> {
    await this.db
      .updateTable('login_throttle')
      .set({ failures: sql<number>`failures - 1` })
      .where('key', '=', key)
      .where('failures', '>', 0)
      .execute();
    await this.changed(key);
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_throttle').where('key', '=', key).execute();
    await this.changed(key);
  }
}
