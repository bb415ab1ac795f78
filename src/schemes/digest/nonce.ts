// RFC 7616 §3.3 nonce: stateless, unguessable, bound to the server key, the realm, the algorithm of
// the challenge that carried it, and an expiry. Layout: base64url(expiry[6] || random[12] || tag[16]).
// The challenges of one 401 share expiry and random part: one HMAC-SHA-512 over them gives four
// independent 16-byte tags, one per algorithm (TAG_SLOTS), where one HMAC per algorithm cost four
// times as much on every 401. A tag reveals nothing of the other slices, so a nonce still verifies
// only for the algorithm it was issued with (catalogue DG-06).
// Any instance holding the same key can check any nonce (catalogue DG-16); which (nonce, nc) pairs were
// used lives in the store.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BoundedMap } from '../../bounded-map.js';
import { randomPiece } from '../../crypto/random-pool.js';
import type { Clock } from '../../clock.js';
import type { DigestAlgorithm } from './algorithms.js';

const KNOWN_LIMIT = 8_192;
/** base64url of the 18-byte head (expiry and random part): 24 characters, no padding. */
const HEAD_CHARS = 24;

interface Known {
  expiresAt: number;
  /** The nonce issued (or verified) for each algorithm. */
  nonces: Map<DigestAlgorithm, string>;
}

/** Where each algorithm's tag sits: block (one HMAC-SHA-512) and 16-byte slice of it. MD5 comes
 * last, so the default SHA offer costs one block. */
const TAG_SLOTS: Record<DigestAlgorithm, [block: number, slice: number]> = {
  'SHA-512-256': [0, 0],
  'SHA-512-256-sess': [0, 1],
  'SHA-256': [0, 2],
  'SHA-256-sess': [0, 3],
  MD5: [1, 0],
  'MD5-sess': [1, 1],
};

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

  /** One nonce for each of `algorithms` (as in one 401), sharing expiry and random part. */
  issueAll(algorithms: readonly DigestAlgorithm[]): Map<DigestAlgorithm, string> {
    const head = Buffer.alloc(18);
    const expiresAt = this.clock.now() + this.ttlMs;
    head.writeUIntBE(expiresAt, 0, 6);
    randomPiece(12).copy(head, 6);
    const blocks: Buffer[] = [];
    const out = new Map<DigestAlgorithm, string>();
    for (const algorithm of algorithms) {
      if (out.has(algorithm)) continue;
      const [block, slice] = TAG_SLOTS[algorithm];
      const tags = (blocks[block] ??= this.tags(head, block, this.epoch));
      const nonce = Buffer.concat([head, tags.subarray(slice * 16, slice * 16 + 16)]).toString('base64url');
      out.set(algorithm, nonce);
    }
    // The client's next request brings one of them back: known already, it needs no HMAC then.
    const first = out.values().next().value;
    if (first !== undefined) this.remember(first, { expiresAt, nonces: out });
    return out;
  }

  issue(algorithm: DigestAlgorithm): string {
    return this.issueAll([algorithm]).get(algorithm)!;
  }

  /** Nonces issued here or whose HMAC was verified, by their expiry and random part (the first
   * HEAD_CHARS characters, shared by the nonces of one 401): a nonce in use is checked once, not per
   * request. */
  private readonly known = new BoundedMap<string, Known>(KNOWN_LIMIT);

  private remember(nonce: string, entry: Known): void {
    this.known.set(nonce.slice(0, HEAD_CHARS), entry);
  }

  check(nonce: string, algorithm: DigestAlgorithm): NonceCheck {
    const head = nonce.slice(0, HEAD_CHARS);
    const known = this.known.get(head);
    // The nonces of a 401 were public in it: comparing with them needs no constant time.
    if (known !== undefined && known.nonces.get(algorithm) === nonce) return { state: known.expiresAt > this.clock.now() ? 'valid' : 'expired', expiresAt: known.expiresAt };
    const result = this.verify(nonce, algorithm);
    if (result.state === 'valid') this.remember(nonce, { expiresAt: result.expiresAt, nonces: new Map([[algorithm, nonce]]) });
    return result;
  }

  private verify(nonce: string, algorithm: DigestAlgorithm): NonceCheck {
    if (!/^[A-Za-z0-9_-]{46}$/.test(nonce)) return { state: 'invalid', expiresAt: 0 };
    const raw = Buffer.from(nonce, 'base64url');
    const head = raw.subarray(0, 18);
    const expiresAt = head.readUIntBE(0, 6);
    const tag = raw.subarray(18);
    if (!timingSafeEqual(tag, this.tag(head, algorithm, this.epoch))) {
      // A nonce of the previous epoch, or one issued before one HMAC served all algorithms (the
      // upgrade): expired, so that the client retries with a new one without asking its user.
      const older = (this.epoch > 0 && timingSafeEqual(tag, this.tag(head, algorithm, this.epoch - 1))) || timingSafeEqual(tag, this.legacyTag(head, algorithm, this.epoch));
      return older ? { state: 'expired', expiresAt } : { state: 'invalid', expiresAt: 0 };
    }
    return { state: expiresAt > this.clock.now() ? 'valid' : 'expired', expiresAt };
  }

  /** The opaque value of this protection space. Clients echo it unchanged on later requests, also
   * with a nonce taken from nextnonce (RFC 7616 §3.3, §3.5), so it depends on the key and realm only. */
  readonly opaque: string;

  private tag(head: Buffer, algorithm: DigestAlgorithm, epoch: number): Buffer {
    const [block, slice] = TAG_SLOTS[algorithm];
    return this.tags(head, block, epoch).subarray(slice * 16, slice * 16 + 16);
  }

  private tags(head: Buffer, block: number, epoch: number): Buffer {
    return createHmac('sha512', this.key).update(`nonces\0${epoch}\0${this.realm}\0${block}\0`).update(head).digest();
  }

  /** The tag of nonces issued by earlier versions (one HMAC-SHA-256 per algorithm). */
  private legacyTag(head: Buffer, algorithm: DigestAlgorithm, epoch: number): Buffer {
    return createHmac('sha256', this.key).update(`nonce\0${epoch}\0${this.realm}\0${algorithm}\0`).update(head).digest().subarray(0, 16);
  }
}
