import type { Kysely, Selectable } from 'kysely';
import { isUniqueViolation } from './errors.js';
import type { Database, UsersTable } from './schema.js';
import type { Changes } from './store.js';

export type UserRow = Selectable<UsersTable>;

export class UsernameTakenError extends Error {
  constructor() {
    super('a user with that username already exists');
  }
}

export class UsersRepo {
  constructor(private readonly db: Kysely<Database>, private readonly changes: Changes) {}

  /** Insert a user. Of two racing inserts with the same username key exactly one wins. */
  async create(row: UserRow): Promise<void> {
    try {
      await this.db.insertInto('users').values(row).execute();
      await this.changes.changed();
    } catch (err) {
      if (isUniqueViolation(err)) throw new UsernameTakenError();
      throw err;
    }
  }

  findByKey(usernameKey: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('username_key', '=', usernameKey).executeTakeFirst();
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username_key').execute();
  }

  /** Replace the hash only if it is still `previous` (a rehash must not undo a concurrent change). */
  async replacePasswordHash(id: string, previous: string, next: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ password_hash: next, updated_at: now })
      .where('id', '=', id)
      .where('password_hash', '=', previous)
      .executeTakeFirst();
    await this.changes.changed();
    return Number(r.numUpdatedRows) === 1;
  }

  async setPasswordHash(id: string, hash: string, now: number): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: hash, updated_at: now }).where('id', '=', id).execute();
    await this.changes.changed();
  }

  async setDisabled(id: string, disabled: boolean, now: number): Promise<void> {
    await this.db.updateTable('users').set({ disabled: disabled ? 1 : 0, updated_at: now }).where('id', '=', id).execute();
    await this.changes.changed();
  }

  async remove(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    await this.changes.changed();
    return Number(r.numDeletedRows) === 1;
  }
}
