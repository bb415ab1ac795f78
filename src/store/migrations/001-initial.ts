import { SqliteAdapter, sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('username_key', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('display_name', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('digest_credentials')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('realm', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('userhash', 'text', (c) => c.notNull())
    .addColumn('ha1', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('digest_credentials_pk', ['user_id', 'realm', 'algorithm'])
    .execute();
  await db.schema
    .createIndex('digest_credentials_userhash')
    .on('digest_credentials')
    .columns(['realm', 'algorithm', 'userhash'])
    .execute();

  // The expiry is encoded in the nonce itself, so (expires_at, nonce, nc) is unique exactly when
  // (nonce, nc) is. Leading with the expiry keeps inserts near the end of one B-tree and makes the
  // purge of expired rows a range delete. On SQLite the table is that B-tree (WITHOUT ROWID): one page
  // to write per claim instead of three.
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  await db.schema
    .createTable('digest_nonce_uses')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('nc', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('digest_nonce_uses_pk', ['expires_at', 'nonce', 'nc'])
    .$call((t) => (sqlite ? t.modifyEnd(sql`without rowid`) : t))
    .execute();

  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('blocked_until', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['meta', 'login_throttle', 'digest_nonce_uses', 'digest_credentials', 'users']) {
    await db.schema.dropTable(t).execute();
  }
}
