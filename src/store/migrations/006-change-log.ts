// Cache invalidation between processes sharing one SQLite file (store/change-log.ts): every write
// that can change an authentication decision appends the account it concerns (NULL: anything), and
// every process reads what others appended. PostgreSQL uses NOTIFY instead (store/change-feed.ts).
// AUTOINCREMENT: sequence numbers only grow, so a reader that has seen up to N takes every row
// above N as new.
import { SqliteAdapter, sql, type Kysely } from 'kysely';

const onSqlite = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof SqliteAdapter;

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!onSqlite(db)) return;
  await sql`create table change_log (seq integer primary key autoincrement, account text, at integer not null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!onSqlite(db)) return;
  await sql`drop table change_log`.execute(db);
}
