import type { Kysely } from 'kysely';
import type { Engine } from './connect.js';
import type { Database } from './schema.js';

export class MetaRepo {
  constructor(private readonly db: Kysely<Database>, private readonly engine: Engine) {}

  /** Inside a transaction: hold the named lock until it ends. One instance at a time runs what the
   * lock guards (key rotation). SQLite's BEGIN IMMEDIATE already serializes every transaction. */
  async lock(name: string): Promise<void> {
    if (this.engine !== 'postgres') return;
    const key = `lock:${name}`;
    await this.db.insertInto('meta').values({ key, value: '' }).onConflict((oc) => oc.column('key').doNothing()).execute();
    await this.db.selectFrom('meta').select('key').where('key', '=', key).forUpdate().execute();
  }

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }

  async put(key: string, value: string): Promise<void> {
    await this.db.insertInto('meta').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  }

  /** Every entry whose key starts with `prefix`. */
  async withPrefix(prefix: string): Promise<Array<{ key: string; value: string }>> {
    return this.db.selectFrom('meta').select(['key', 'value']).where('key', '>=', prefix).where('key', '<', `${prefix}\uffff`).execute();
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
