import { timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two strings (CWE-208). Unequal lengths return false at once; the
 * values compared here are fixed-length digests, so the length itself is not a secret. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
