// OIDC: which clients a login session (by sid) signed in to, so that its logout can be told to them
// (Back-Channel Logout 1.0).
import type { Kysely, Selectable } from 'kysely';
import type { Database, SessionClientsTable } from './schema.js';

export type SessionClientRow = Selectable<SessionClientsTable>;

export class SessionClientsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async add(row: SessionClientRow): Promise<void> {
    await this.db.insertInto('session_clients').values(row).onConflict((oc) => oc.columns(['sid', 'client_id']).doNothing()).execute();
  }

  /** The session's clients, forgotten in the same step: each is told once. */
  async take(sid: string): Promise<SessionClientRow[]> {
    const rows = await this.db.selectFrom('session_clients').selectAll().where('sid', '=', sid).execute();
    if (rows.length) await this.db.deleteFrom('session_clients').where('sid', '=', sid).execute();
    return rows;
  }

  async purgeOlderThan(before: number): Promise<number> {
    const r = await this.db.deleteFrom('session_clients').where('created_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
