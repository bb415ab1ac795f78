// Opaque access tokens (and revocation marks for JWT access tokens), by SHA-256.
import type { Kysely, Selectable } from 'kysely';
import type { AccessTokensTable, Database } from './schema.js';
import type { Changes } from './store.js';

export type AccessTokenRow = Selectable<AccessTokensTable>;

/** The change-feed name of these rows: readers may cache them (see oauth/introspection.ts). */
export const ACCESS_TOKENS_CHANGED = 'access-tokens';

export class AccessTokensRepo {
  constructor(private readonly db: Kysely<Database>, private readonly changes: Changes) {}

  async create(row: AccessTokenRow): Promise<void> {
    await this.db.insertInto('access_tokens').values(row).onConflict((oc) => oc.column('token_hash').doNothing()).execute();
    // A new token's hash was never looked up; a revocation record (a JWT revoked) may have been.
    if (row.revoked_at !== null) await this.changes.changed(ACCESS_TOKENS_CHANGED);
  }

  find(tokenHash: string): Promise<AccessTokenRow | undefined> {
    return this.db.selectFrom('access_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async revoke(tokenHash: string, now: number): Promise<void> {
    await this.db.updateTable('access_tokens').set({ revoked_at: now }).where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).execute();
    await this.changes.changed(ACCESS_TOKENS_CHANGED);
  }

  /** Called by RefreshTokensRepo when it revokes families. */
  async revokeFamilies(familyIds: string[], now: number): Promise<void> {
    const r = await this.db.updateTable('access_tokens').set({ revoked_at: now }).where('family_id', 'in', familyIds).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) await this.changes.changed(ACCESS_TOKENS_CHANGED);
  }

  /** Every recorded token of a client, revoked (the client is being removed). */
  async revokeForClient(clientId: string, now: number): Promise<void> {
    const r = await this.db.updateTable('access_tokens').set({ revoked_at: now }).where('client_id', '=', clientId).where('revoked_at', 'is', null).executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) await this.changes.changed(ACCESS_TOKENS_CHANGED);
  }

  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('access_tokens').where('expires_at', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
