// Consent, per user and client: the scopes the user has allowed.
import type { Kysely, Selectable } from 'kysely';
import type { ConsentsTable, Database } from './schema.js';

export type ConsentRow = Selectable<ConsentsTable>;

export class ConsentsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  find(userId: string, clientId: string): Promise<ConsentRow | undefined> {
    return this.db.selectFrom('consents').selectAll().where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
  }

  async grant(userId: string, clientId: string, scope: string, now: number): Promise<void> {
    await this.db
      .insertInto('consents')
      .values({ user_id: userId, client_id: clientId, scope, created_at: now, updated_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'client_id']).doUpdateSet({ scope, updated_at: now }))
      .execute();
  }

  listForUser(userId: string): Promise<ConsentRow[]> {
    return this.db.selectFrom('consents').selectAll().where('user_id', '=', userId).orderBy('client_id').execute();
  }

  async revoke(userId: string, clientId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('consents').where('user_id', '=', userId).where('client_id', '=', clientId).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}
