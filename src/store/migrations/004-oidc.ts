// OpenID Connect (issue 5): the session id (sid) that ID tokens carry, carried by codes and refresh
// families; which clients a session signed in to (for back-channel logout); clients' back-channel
// logout URIs; whether a user's email address was verified.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('authorization_codes').addColumn('sid', 'text').execute();
  await db.schema.alterTable('refresh_families').addColumn('sid', 'text').execute();
  await db.schema.alterTable('clients').addColumn('backchannel_logout_uri', 'text').execute();
  await db.schema
    .createTable('session_clients')
    .addColumn('sid', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('session_clients_pk', ['sid', 'client_id'])
    .execute();
  await db.schema.createIndex('session_clients_created').on('session_clients').column('created_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('session_clients').execute();
  await db.schema.alterTable('clients').dropColumn('backchannel_logout_uri').execute();
  await db.schema.alterTable('refresh_families').dropColumn('sid').execute();
  await db.schema.alterTable('authorization_codes').dropColumn('sid').execute();
  await db.schema.alterTable('users').dropColumn('email_verified').execute();
}
