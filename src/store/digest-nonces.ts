import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

interface Pending {
  nonce: string;
  nc: number;
  expiresAt: number;
  resolve(won: boolean): void;
  reject(err: unknown): void;
}

const MAX_BATCH = 200;

export class DigestNoncesRepo {
  private queue: Pending[] = [];
  private draining = false;

  constructor(private readonly db: Kysely<Database>) {}

  /** Use (nonce, nc) once. An atomic insert: of any number of racing requests, on any number of
   * instances sharing the database, exactly one gets true (catalogue DG-02, R-06, ST-05).
   * Claims that arrive while one is being written are written together in the next statement (group
   * commit): with SQLite's synchronous=FULL every commit waits for the disk, and this way a burst pays
   * for one fsync instead of one each. */
  claim(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ nonce, nc, expiresAt, resolve, reject });
      // Start the write a moment later: a write blocks the event loop (better-sqlite3 is synchronous),
      // so only claims made before it starts can share it. A millisecond lets the requests already on
      // their way join the batch; it is the same trade PostgreSQL's commit_delay makes.
      if (!this.draining) {
        this.draining = true;
        setTimeout(() => void this.drain(), 1);
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const key = (p: { nonce: string; nc: number }) => `${p.nc}:${p.nonce}`;
        const unique = new Map<string, Pending>();
        for (const p of batch) if (!unique.has(key(p))) unique.set(key(p), p);
        const inserted = await this.db
          .insertInto('digest_nonce_uses')
          .values([...unique.values()].map((p) => ({ nonce: p.nonce, nc: p.nc, expires_at: p.expiresAt })))
          .onConflict((oc) => oc.columns(['nonce', 'nc']).doNothing())
          .returning(['nonce', 'nc'])
          .execute();
        const won = new Set(inserted.map((r) => key({ nonce: r.nonce, nc: Number(r.nc) })));
        // Within one batch the first request for a pair wins; later duplicates lose.
        for (const p of batch) p.resolve(won.delete(key(p)));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.draining = false;
  }

  /** Forget pairs of nonces that have expired: an expired nonce is refused before its nc is looked at. */
  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('digest_nonce_uses').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
