import type { Kysely } from 'kysely';
import { BatchQueue } from './batch-queue.js';
import type { Database } from './schema.js';
import type { Claim } from './sqlite-claim-log.js';

const MAX_BATCH = 200;

/** Where claims are decided and recorded. The portable writer below (a table with a primary key on
 * the pair) serves PostgreSQL; SQLite has a faster one (sqlite-claim-log.ts, wired in connect.ts). */
export interface ClaimWriter {
  /** One batch in one transaction; for each claim, whether it won the pair. The writer takes the
   * batch (`take`) once it can write it: after it got the write lock, so that claims that arrived
   * while it waited join the batch. */
  write(take: () => Claim[]): Promise<boolean[]>;
  /** Forget the pairs of nonces expired at `now`. */
  purge(now: number): Promise<number>;
  /** The counts recorded for a nonce, ascending. */
  recorded(nonce: string): Promise<number[]>;
}

export class DigestNoncesRepo {
  private readonly queue: BatchQueue<Claim, boolean>;
  private readonly writer: ClaimWriter;

  constructor(private readonly db: Kysely<Database>, writer?: ClaimWriter) {
    this.writer = writer ?? { write: (take) => this.writePortable(take()), purge: (now) => this.purgePortable(now), recorded: (nonce) => this.recordedPortable(nonce) };
    this.queue = new BatchQueue(async (take) => (await this.writer.write(take)).map((won) => ({ ok: true, value: won === true })), MAX_BATCH);
  }

  /** Use (nonce, nc) once, atomically: of any number of racing requests, on any number of
   * instances sharing the database, exactly one gets true (catalogue DG-02, R-06, ST-05).
   * `expiresAt` is the nonce's own expiry (read from its HMAC-protected bytes), the same on every
   * claim of that nonce; its pairs are forgotten after it.
   * Claims made close together are written together in one transaction (batch-queue.ts). */
  claim(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    return this.queue.push([nonce, nc, expiresAt]);
  }

  /** One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: the rows it returns are the pairs it
   * inserted. Within a batch the first request for a pair wins; later duplicates lose. */
  private async writePortable(batch: Claim[]): Promise<boolean[]> {
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
  purgeExpired(now: number): Promise<number> {
    return this.writer.purge(now);
  }

  /** The counts of a nonce recorded as used, ascending. */
  recorded(nonce: string): Promise<number[]> {
    return this.writer.recorded(nonce);
  }

  private async purgePortable(now: number): Promise<number> {
    const r = await this.db.deleteFrom('digest_nonce_uses').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  private async recordedPortable(nonce: string): Promise<number[]> {
    const rows = await this.db.selectFrom('digest_nonce_uses').select('nc').where('nonce', '=', nonce).orderBy('nc').execute();
    return rows.map((r) => Number(r.nc));
  }
}
