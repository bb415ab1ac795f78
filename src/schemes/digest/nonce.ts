// RFC 7616 §3.3 nonce: stateless, unguessable, bound to the server key, the realm, the algorithm of
// the challenge that carried it, and an expiry. Layout: base64url(expiry[6] || random[12] || tag[16]).
// Any instance holding the same key can check any nonce (catalogue DG-16); which (nonce, nc) pairs were
// used lives in the store.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomPiece } from '../../crypto/random-pool.js';
import type { Clock } from '../../clock.js';
import type { DigestAlgorithm } from './algorithms.js';

export type NonceState = 'valid' | 'expired' | 'invalid';

export interface NonceCheck {
  state: NonceState;
  expiresAt: number;
}

export class NonceService {
  /** Nonces carry the server's nonce epoch (see gatehouse.ts): after an unclean stop on SQLite the
   * epoch moves on, and every nonce of the previous epoch is answered like an expired one
   * (stale=true), because the record of its used counts may not have reached the disk. */
  constructor(
    private readonly key: Buffer,
    private readonly realm: string,
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly epoch = 0,
  ) {
    this.opaque = createHmac('sha256', key).update(`opaque\0${realm}`).digest().subarray(0, 18).toString('base64url');
  }

  issue(algorithm: DigestAlgorithm): string {
    const head = Buffer.alloc(18);
    head.writeUIntBE(this.clock.now() + this.ttlMs, 0, 6);
    randomPiece(12).copy(head, 6);
    return Buffer.concat([head, this.tag(head, algorithm, this.epoch)]).toString('base64url');
  }

  /** Nonces whose HMAC was verified, with their expiry: a nonce in use is checked once, not per request. */
  private readonly verified = new Map<string, number>();

  check(nonce: string, algorithm: DigestAlgorithm): NonceCheck {
    const known = this.verified.get(`${algorithm}\0${nonce}`);
    if (known !== undefined) return { state: known > this.clock.now() ? 'valid' : 'expired', expiresAt: known };
    const result = this.verify(nonce, algorithm);
    if (result.state === 'valid') {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(`${algorithm}\0${nonce}`, result.expiresAt);
    }
    return result;
  }

  private verify(nonce: string, algorithm: DigestAlgorithm): NonceCheck {
    if (!/^[A-Za-z0-9_-]{46}$/.test(nonce)) return { state: 'invalid', expiresAt: 0 };
    const raw = Buffer.from(nonce, 'base64url');
    const head = raw.subarray(0, 18);
    const expiresAt = head.readUIntBE(0, 6);
    if (!timingSafeEqual(raw.subarray(18), this.tag(head, algorithm, this.epoch))) {
      const previous = this.epoch > 0 && timingSafeEqual(raw.subarray(18), this.tag(head, algorithm, this.epoch - 1));
      return previous ? { state: 'expired', expiresAt } : { state: 'invalid', expiresAt: 0 };
    }
    return { state: expiresAt > this.clock.now() ? 'valid' : 'expired', expiresAt };
  }

  /** The opaque value of this protection space. Clients echo it unchanged on later requests, also
   * with a nonce taken from nextnonce (RFC 7616 §3.3, §3.5), so it depends on the key and realm only. */
  readonly opaque: string;

  private tag(head: Buffer, algorithm: DigestAlgorithm, epoch: number): Buffer {
    return createHmac('sha256', this.key).update(`nonce\0${epoch}\0${this.realm}\0${algorithm}\0`).update(head).digest().subarray(0, 16);
  }
}
