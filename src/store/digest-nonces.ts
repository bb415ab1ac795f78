import type { Kysely } from 'kysely';
import { BatchQueue } from './batch-queue.js';
import type { Database } from './schema.js';

const MAX_BATCH = 200;

/** Writes one batch of claims in one transaction; says for each whether it inserted the pair. A
 * faster engine-specific writer may replace the portable one (see connect.ts for SQLite). */
export type ClaimBatchWriter = (batch: Array<[nonce: string, nc: number, expiresAt: number]>) => Promise<boolean[]>;

export class DigestNoncesRepo {
  private readonly queue: BatchQueue<[nonce: string, nc: number, expiresAt: number], boolean>;

  constructor(private readonly db: Kysely<Database>, writer?: ClaimBatchWriter) {
    const write = writer ?? ((batch) => this.writePortable(batch));
    this.queue = new BatchQueue(async (batch) => (await write(batch)).map((won) => ({ ok: true, value: won === true })), MAX_BATCH);
  }

  /** Use (nonce, nc) once. An atomic insert: of any number of racing requests, on any number of
   * instances sharing the database, exactly one gets true (catalogue DG-02, R-06, ST-05).
   * Claims made close together are written together in one transaction (batch-queue.ts). */
  claim(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    return this.queue.push([nonce, nc, expiresAt]);
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
