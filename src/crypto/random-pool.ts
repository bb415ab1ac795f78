// Random bytes for values made on every request (Digest nonces, token ids). Each randomBytes() call
// costs a trip into OpenSSL's generator; taking small pieces of one larger draw costs a copy. Node's
// own randomUUID() buffers the same way. Every byte is handed out once.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `size` fresh random bytes (size at most 256), copied out of the pool. */
export function randomPiece(size: number): Buffer {
  if (size > 256) throw new RangeError('randomPiece is for small values');
  if (offset + size > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + size));
  pool.fill(0, offset, offset + size);
  offset += size;
  return out;
}
