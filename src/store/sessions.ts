// Cookie sessions, keyed by the SHA-256 of the session id.
import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionsTable } from './schema.js';

export type SessionRow = Selectable<SessionsTable>;

export class SessionsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  find(idHash: string): Promise<SessionRow | undefined> {
    return this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }

  /** Slide the idle timeout. Writes only when the stored time is older than `before`. */
  async touch(idHash: string, now: number, before: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).where('last_seen_at', '<', before).execute();
  }

  /** Returns whether a session was there to remove. */
  async remove(idHash: string): Promise<boolean> {
    const r = await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /** End every session of a user; returns their id hashes (for back-channel logout). */
  async removeForUser(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('sessions').select('id_hash').where('user_id', '=', userId).execute();
    if (rows.length) await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
    return rows.map((r) => r.id_hash);
  }

  async countForUser(userId: string): Promise<number> {
    const r = await this.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Delete sessions past their absolute or idle limit; returns their id hashes. */
  async purgeExpired(now: number, idleBefore: number): Promise<string[]> {
    const rows = await this.db.deleteFrom('sessions').where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleBefore)])).returning('id_hash').execute();
    return rows.map((r) => r.id_hash);
  }
}
