// Authorization codes, by SHA-256. Redemption is one conditional UPDATE: of parallel redemptions of
// one code exactly one changes the row (catalogue R-06, ST-05).
import type { Kysely, Selectable } from 'kysely';
import type { AuthorizationCodesTable, Database } from './schema.js';

export type CodeRow = Selectable<AuthorizationCodesTable>;

export class AuthorizationCodesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async create(row: CodeRow): Promise<void> {
    await this.db.insertInto('authorization_codes').values(row).execute();
  }

  find(codeHash: string): Promise<CodeRow | undefined> {
    return this.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  }

  /** Mark the code used, recording the id of what it issues (for revocation on replay); true for
   * the one caller that did. */
  async redeem(codeHash: string, now: number, familyId: string): Promise<boolean> {
    const r = await this.db.updateTable('authorization_codes').set({ used_at: now, family_id: familyId }).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Codes are kept a while after expiry so that a late replay is still recognised. */
  async purgeExpired(before: number): Promise<number> {
    const r = await this.db.deleteFrom('authorization_codes').where('expires_at', '<=', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
