// Digest claims on SQLite move to an append-only log (store/sqlite-claim-log.ts): a rowid table with
// no other index, so that a batch of claims appends to one page instead of touching one page per
// nonce. AUTOINCREMENT: a rowid is never used twice, even after the table was emptied, so a reader
// that has seen rows up to N can take every row above N as new. The pairs already used move with them, so that none of them can be used again after the
// upgrade. PostgreSQL keeps digest_nonce_uses (its primary key decides the races there).
import { SqliteAdapter, sql, type Kysely } from 'kysely';

const onSqlite = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof SqliteAdapter;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!onSqlite(db)) return;
  await sql`create table digest_claim_log (seq integer primary key autoincrement, nonce text not null, nc integer not null, expires_at integer not null)`.execute(db);
  await sql`insert into digest_claim_log (nonce, nc, expires_at) select nonce, nc, expires_at from digest_nonce_uses order by expires_at`.execute(db);
  await sql`delete from digest_nonce_uses`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!onSqlite(db)) return;
  await sql`insert or ignore into digest_nonce_uses (nonce, nc, expires_at) select nonce, nc, expires_at from digest_claim_log`.execute(db);
  await sql`drop table digest_claim_log`.execute(db);
}
