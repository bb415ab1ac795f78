// Refresh-token families and their tokens. Rotation runs in one transaction that locks the
// family row first (PostgreSQL FOR UPDATE; SQLite BEGIN IMMEDIATE), so of N parallel uses of one
// token exactly one sees it unused (catalogue R-05).
import type { Kysely, Selectable } from 'kysely';
import type { AccessTokensRepo } from './access-tokens.js';
import type { Engine } from './connect.js';
import type { Database, RefreshFamiliesTable, RefreshTokensTable } from './schema.js';

export type RefreshFamilyRow = Selectable<RefreshFamiliesTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export class RefreshTokensRepo {
  constructor(private readonly db: Kysely<Database>, private readonly engine: Engine, private readonly accessTokens: AccessTokensRepo) {}

  async createFamily(family: RefreshFamilyRow, token: RefreshTokenRow): Promise<void> {
    await this.db.insertInto('refresh_families').values(family).execute();
    await this.addToken(token);
  }

  async addToken(token: RefreshTokenRow): Promise<void> {
    await this.db.insertInto('refresh_tokens').values(token).execute();
  }

  async find(tokenHash: string): Promise<RefreshTokenRow | undefined> {
    return this.db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /** The token and its family; in a PostgreSQL transaction the family row stays locked until the end. */
  async findLocked(tokenHash: string): Promise<{ token: RefreshTokenRow; family: RefreshFamilyRow } | undefined> {
    const token = await this.find(tokenHash);
    if (!token) return undefined;
    const family = await this.db
      .selectFrom('refresh_families')
      .selectAll()
      .where('id', '=', token.family_id)
      .$if(this.engine === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    if (!family) return undefined;
    // Re-read the token under the lock: a rotation that committed meanwhile has marked it used.
    const fresh = this.engine === 'postgres' ? await this.find(tokenHash) : token;
    return fresh && { token: fresh, family };
  }

  async findFamily(id: string): Promise<RefreshFamilyRow | undefined> {
    return this.db.selectFrom('refresh_families').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Mark a token used; false when it already was. */
  async markUsed(tokenHash: string, now: number): Promise<boolean> {
    const r = await this.db.updateTable('refresh_tokens').set({ used_at: now }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** After a rotation, the family's other unused tokens (grace-window siblings) count as used now. */
  async supersedeOthers(familyId: string, keep: string, now: number): Promise<void> {
    await this.db.updateTable('refresh_tokens').set({ used_at: now }).where('family_id', '=', familyId).where('used_at', 'is', null).where('token_hash', '!=', keep).execute();
  }

  /** Revoke a family and the access tokens recorded under its id (an id may also be one that only
   * an authorization code recorded, with no family row); returns whether a family was live. */
  async revokeFamily(id: string, now: number, reason: string): Promise<boolean> {
    const r = await this.db.updateTable('refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    await this.accessTokens.revokeFamilies([id], now);
    return Number(r.numUpdatedRows) === 1;
  }

  /** Revoke every live family of a user, and their access tokens. */
  async revokeForUser(userId: string, now: number, reason: string): Promise<number> {
    const live = await this.db.selectFrom('refresh_families').select('id').where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
    if (live.length === 0) return 0;
    const ids = live.map((f) => f.id);
    await this.db.updateTable('refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('id', 'in', ids).where('revoked_at', 'is', null).execute();
    await this.accessTokens.revokeFamilies(ids, now);
    return ids.length;
  }

  /** Revoke every live family of a client (the client is being removed): a client registered
   * later under the same id must not inherit them. Its access tokens go with them. */
  async revokeForClient(clientId: string, now: number, reason: string): Promise<void> {
    await this.db.updateTable('refresh_families').set({ revoked_at: now, revoked_reason: reason }).where('client_id', '=', clientId).where('revoked_at', 'is', null).execute();
    await this.accessTokens.revokeForClient(clientId, now);
  }

  listTokens(familyId: string): Promise<RefreshTokenRow[]> {
    return this.db.selectFrom('refresh_tokens').selectAll().where('family_id', '=', familyId).orderBy('generation').orderBy('created_at').execute();
  }

  listFamilies(userId: string): Promise<RefreshFamilyRow[]> {
    return this.db.selectFrom('refresh_families').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  }

  /** Drop families past their absolute lifetime (their tokens go with them) and tokens past their
   * own expiry. A revoked family stays until then, so that a late reuse is still recognised. */
  /** Delete expired families (their tokens go by cascade) and expired tokens, except a used token of
   * a live family: replayed late, it must still be recognised and revoke the family (RFC 9700
   * §4.14.2), not be refused as unknown. */
  async purgeExpired(now: number): Promise<number> {
    const f = await this.db.deleteFrom('refresh_families').where('expires_at', '<=', now).executeTakeFirst();
    const t = await this.db
      .deleteFrom('refresh_tokens')
      .where('expires_at', '<=', now)
      .where((eb) =>
        eb.or([
          eb('used_at', 'is', null),
          eb.not(
            eb.exists(
              eb.selectFrom('refresh_families').select('refresh_families.id').whereRef('refresh_families.id', '=', 'refresh_tokens.family_id').where('refresh_families.revoked_at', 'is', null),
            ),
          ),
        ]),
      )
      .executeTakeFirst();
    return Number(f.numDeletedRows) + Number(t.numDeletedRows);
  }
}
