// Group commit for SQLite. better-sqlite3 waits for the disk inside COMMIT (synchronous=FULL), on
// the event loop, and SQLite has one writer: one transaction per request would cost a disk flush per
// request and hold every other request behind it. Transactions asked for while a batch is being
// written (or in the same turn of the event loop) run one after another inside one BEGIN IMMEDIATE …
// COMMIT, each under its own SAVEPOINT: a unit that throws is rolled back alone, the others commit
// together. No unit's caller hears back before the COMMIT that made its writes durable; if the batch
// cannot commit, every unit in it fails and nothing of it is kept.
import { sql, type Kysely } from 'kysely';
import { BatchQueue, type Settled } from './batch-queue.js';
import type { Database } from './schema.js';

type Work = (conn: Kysely<Database>) => Promise<unknown>;

export class GroupCommit {
  private readonly queue: BatchQueue<Work, unknown>;

  constructor(private readonly db: Kysely<Database>) {
    this.queue = new BatchQueue((take) => this.db.connection().execute((conn) => this.write(conn, take)), 64);
  }

  run<T>(work: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    return this.queue.push(work) as Promise<T>;
  }

  private async write(conn: Kysely<Database>, take: () => Work[]): Promise<Array<Settled<unknown>>> {
    // Other processes may hold the write lock (sqlite-driver.ts): what arrives meanwhile joins the batch.
    await sql`begin immediate`.execute(conn);
    const batch = take();
    const settled: Array<Settled<unknown>> = [];
    try {
      for (const work of batch) {
        await sql`savepoint unit`.execute(conn);
        try {
          const value = await work(conn);
          await sql`release unit`.execute(conn);
          settled.push({ ok: true, value });
        } catch (err) {
          // If SQLite already ended the transaction (a disk error), this throws and fails the batch.
          await sql`rollback to unit`.execute(conn);
          await sql`release unit`.execute(conn);
          settled.push({ ok: false, err });
        }
      }
      await sql`commit`.execute(conn);
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => {});
      throw err;
    }
    return settled;
  }
}
