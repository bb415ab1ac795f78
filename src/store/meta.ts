import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export class MetaRepo {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async put(key: string, value: string): Promise<void> {
    await this.db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }

  async remove(key: string): Promise<void> {
    await this.db.deleteFrom('meta').where('key', '=', key).execute();
  }

  /** Store `value` unless the key is set already; return the value that is stored now. */
  async putIfAbsent(key: string, value: string): Promise<string> {
    await this.db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doNothing()).execute();
    return (await this.get(key)) ?? value;
  }
}
