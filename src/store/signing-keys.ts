// Signing keys: rows change only inside a transaction that holds the "signing-keys" lock.
import type { Kysely, Selectable } from 'kysely';
import type { Database, SigningKeysTable } from './schema.js';

export type SigningKeyRow = Selectable<SigningKeysTable>;

export class SigningKeysRepo {
  constructor(private readonly db: Kysely<Database>) {}

  list(): Promise<SigningKeyRow[]> {
    return this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
  }

  async insert(row: SigningKeyRow): Promise<void> {
    await this.db.insertInto('signing_keys').values(row).execute();
  }

  async setTimes(kid: string, times: Partial<Pick<SigningKeyRow, 'active_from' | 'active_until' | 'published_until'>>): Promise<void> {
    await this.db.updateTable('signing_keys').set(times).where('kid', '=', kid).execute();
  }

  async remove(kid: string): Promise<void> {
    await this.db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
  }

  /** Forget keys no longer published: nothing they signed is still valid. */
  async purgeUnpublished(now: number): Promise<number> {
    const r = await this.db.deleteFrom('signing_keys').where('published_until', 'is not', null).where('published_until', '<=', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
