import type { Kysely, Selectable } from 'kysely';
import type { Database, DigestCredentialsTable } from './schema.js';
import type { Changes } from './store.js';
import type { UserRow } from './users.js';

export type DigestCredentialRow = Selectable<DigestCredentialsTable>;

export class DigestCredentialsRepo {
  constructor(private readonly db: Kysely<Database>, private readonly changes: Changes) {}

  /** Replace every H(A1) of a user (password set or changed). Run inside a transaction. */
  async replaceForUser(userId: string, rows: DigestCredentialRow[]): Promise<void> {
    await this.db.deleteFrom('digest_credentials').where('user_id', '=', userId).execute();
    if (rows.length > 0) await this.db.insertInto('digest_credentials').values(rows).execute();
    await this.changes.changed();
  }

  /** Add one missing H(A1) (captured at a password login); an existing row is left alone. */
  async addIfMissing(row: DigestCredentialRow): Promise<void> {
    await this.db
      .insertInto('digest_credentials')
      .values(row)
      .onConflict((oc) => oc.columns(['user_id', 'realm', 'algorithm']).doNothing())
      .execute();
    await this.changes.changed();
  }

  /** The user and its H(A1) for one realm and algorithm, in one query, by username key or userhash. */
  async findForLogin(realm: string, algorithm: string, by: { usernameKey: string } | { userhash: string }): Promise<{ user: UserRow; credential: DigestCredentialRow } | undefined> {
    let q = this.db
      .selectFrom('digest_credentials as d')
      .innerJoin('users as u', 'u.id', 'd.user_id')
      .selectAll('u')
      .select(['d.realm', 'd.algorithm', 'd.userhash', 'd.ha1', 'd.created_at as credential_created_at'])
      .where('d.realm', '=', realm)
      .where('d.algorithm', '=', algorithm);
    q = 'usernameKey' in by ? q.where('u.username_key', '=', by.usernameKey) : q.where('d.userhash', '=', by.userhash);
    const row = await q.executeTakeFirst();
    if (!row) return undefined;
    const { realm: r, algorithm: a, userhash, ha1, credential_created_at, ...user } = row;
    return { user, credential: { user_id: user.id, realm: r, algorithm: a, userhash, ha1, created_at: credential_created_at } };
  }

  listForUser(userId: string): Promise<DigestCredentialRow[]> {
    return this.db.selectFrom('digest_credentials').selectAll().where('user_id', '=', userId).execute();
  }
}
