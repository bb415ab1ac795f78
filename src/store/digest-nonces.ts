import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export class DigestNoncesRepo {
  constructor(private readonly db: Kysely<Database>) {}

  /** Use (nonce, nc) once. One atomic insert: of any number of racing requests, on any number of
   * instances sharing the database, exactly one gets true (catalogue DG-02, R-06, ST-05). */
  async claim(nonce: string, nc: number, expiresAt: number): Promise<boolean> {
    const r = await this.db
      .insertInto('digest_nonce_uses')
      .values({ nonce, nc, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['nonce', 'nc']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Forget pairs of nonces that have expired: an expired nonce is refused before its nc is looked at. */
  async purgeExpired(now: number): Promise<number> {
    const r = await this.db.deleteFrom('digest_nonce_uses').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
