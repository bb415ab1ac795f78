// Opaque access tokens (and revocation marks for JWT access tokens), by SHA-256.
import type { Kysely, Selectable } from 'kysely';
import type { AccessTokensTable, Database } from './schema.js';

export type AccessTokenRow = Selectable<AccessTokensTable>;

export class AccessTokensRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: AccessTokenRow): Promise<void> {
    await this.db.insertInto('access_tokens').values(row).onConflict((oc) => oc.column('token_hash').doNothing()).execute();
  }

  find(tokenHash: string): Promise<AccessTokenRow | undefined> {
    return this.db.selectFrom('access_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async revoke(tokenHash: string, now: number): Promise<void> {
    await this.db.updateTable('access_tokens').set({ revoked_at: now }).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).execute();
  }

  async revokeFamily(familyId: string, now: number): Promise<void> {
    await this.db.updateTable('access_tokens').set({ revoked_at: now }).where('family_id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('access_tokens').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
