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

/** Writes one batch of claims in one transaction; says for each whether it inserted the pair. A
 * faster engine-specific writer may replace the portable one (see connect.ts for SQLite). */
export type ClaimBatchWriter = (batch: Array<[nonce: string, nc: number, expiresAt: number]>) => Promise<boolean[]>;

export class DigestNoncesRepo {
  private queue: Pending[] = [];
  private draining = false;
  private readonly write: ClaimBatchWriter;

  constructor(private readonly db: Kysely<Database>, writer?: ClaimBatchWriter) {
    this.write = writer ?? ((batch) => this.writePortable(batch));
  }

  /** Use (nonce, nc) once. An atomic insert: of any number of racing requests, on any number of
   * instances sharing the database, exactly one gets true (catalogue DG-02, R-06, ST-05).
   * Claims made in the same turn of the event loop, or while a batch is being written, are written
   * together in one transaction (group commit). */
  claim(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ nonce, nc, expiresAt, resolve, reject });
      // Start the write after this turn of the event loop, so that every request read from the
      // network in this turn shares it (better-sqlite3 writes synchronously: later ones cannot join).
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const won = await this.write(batch.map((p) => [p.nonce, p.nc, p.expiresAt]));
        batch.forEach((p, i) => p.resolve(won[i] === true));
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.draining = false;
  }

  /** One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: the rows it returns are the pairs it
   * inserted. Within a batch the first request for a pair wins; later duplicates lose. */
  private async writePortable(batch: Array<[string, number, number]>): Promise<boolean[]> {
    const key = (nonce: string, nc: number) => `${nc}:${nonce}`;
    const unique = new Map(batch.map(([nonce, nc, expiresAt]) => [key(nonce, nc), { nonce, nc, expires_at: expiresAt }]));
    const inserted = await this.db
      .insertInto('digest_nonce_uses')
      .values([...unique.values()])
      .onConflict((oc) => oc.columns(['expires_at', 'nonce', 'nc']).doNothing())
      .returning(['nonce', 'nc'])
      .execute();
    const won = new Set(inserted.map((r) => key(r.nonce, Number(r.nc))));
    return batch.map(([nonce, nc]) => won.delete(key(nonce, nc)));
  }

  /** Forget pairs of nonces that have expired: an expired nonce is refused before its nc is looked at. */
  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('digest_nonce_uses').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
