// OAuth clients. Lists are stored as JSON arrays.
import type { Kysely, Selectable } from 'kysely';
import { isUniqueViolation } from './errors.js';
import type { ClientsTable, Database } from './schema.js';
import type { Changes } from './store.js';

export type ClientRow = Selectable<ClientsTable>;

export class ClientIdTakenError extends Error {
  constructor() {
    super('a client with that client_id already exists');
  }
}

export class ClientsRepo {
  constructor(private readonly db: Kysely<Database>, private readonly changes: Changes) {}

  async create(row: ClientRow): Promise<void> {
    try {
      await this.db.insertInto('clients').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new ClientIdTakenError();
      throw err;
    }
    await this.changes.changed('clients');
  }

  find(clientId: string): Promise<ClientRow | undefined> {
    return this.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  }

  list(): Promise<ClientRow[]> {
    return this.db.selectFrom('clients').selectAll().orderBy('client_id').execute();
  }

  async setSecretHash(clientId: string, hash: string, now: number): Promise<boolean> {
    const r = await this.db.updateTable('clients').set({ secret_hash: hash, updated_at: now }).where('client_id', '=', clientId).executeTakeFirst();
    await this.changes.changed('clients');
    return Number(r.numUpdatedRows) === 1;
  }

  /** The longest access-token lifetime a client has of its own (seconds), if any has one. */
  async longestAccessTokenTtl(): Promise<number | undefined> {
    const row = await this.db.selectFrom('clients').select((eb) => eb.fn.max('access_token_ttl').as('longest')).executeTakeFirst();
    return row?.longest === null || row?.longest === undefined ? undefined : Number(row.longest);
  }

  async remove(clientId: string): Promise<boolean> {
    const r = await this.db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
    await this.changes.changed('clients');
    return Number(r.numDeletedRows) === 1;
  }
}
