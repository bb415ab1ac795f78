import type { Kysely, Selectable } from 'kysely';
import type { Database, DigestCredentialsTable } from './schema.js';

export type DigestCredentialRow = Selectable<DigestCredentialsTable>;

export class DigestCredentialsRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Replace every H(A1) of a user (password set or changed). Run inside a transaction. */
  async replaceForUser(userId: string, rows: DigestCredentialRow[]): Promise<void> {
    await this.db.deleteFrom('digest_credentials').where('user_id', '=', userId).execute();
    if (rows.length > 0) await this.db.insertInto('digest_credentials').values(rows).execute();
  }

  /** Add one missing H(A1) (captured at a password login); an existing row is left alone. */
  async addIfMissing(row: DigestCredentialRow): Promise<void> {
    await this.db
      .insertInto('digest_credentials')
      .values(row)
      .onConflict((oc) => oc.columns(['user_id', 'realm', 'algorithm']).doNothing())
      .execute();
  }

  find(userId: string, realm: string, algorithm: string): Promise<DigestCredentialRow | undefined> {
    return this.db
      .selectFrom('digest_credentials')
      .selectAll()
      .where('user_id', '=', userId)
      .where('realm', '=', realm)
      .where('algorithm', '=', algorithm)
      .executeTakeFirst();
  }

  findByUserhash(realm: string, algorithm: string, userhash: string): Promise<DigestCredentialRow | undefined> {
    return this.db
      .selectFrom('digest_credentials')
      .selectAll()
      .where('realm', '=', realm)
      .where('algorithm', '=', algorithm)
      .where('userhash', '=', userhash)
      .executeTakeFirst();
  }

  listForUser(userId: string): Promise<DigestCredentialRow[]> {
    return this.db.selectFrom('digest_credentials').selectAll().where('user_id', '=', userId).execute();
  }
}
