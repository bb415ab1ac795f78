// RFC 7616 §3.2 / §6.1: the Digest algorithms and their hash functions.
import { hash } from 'node:crypto';

export const DIGEST_ALGORITHMS = ['SHA-512-256', 'SHA-512-256-sess', 'SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];
export type BaseAlgorithm = 'SHA-512-256' | 'SHA-256' | 'MD5';

// SHA-512-256 is SHA-512/256 of FIPS 180-4 (its own initial values), as in curl and OpenSSL.
const NODE_HASH: Record<BaseAlgorithm, string> = { 'SHA-512-256': 'sha512-256', 'SHA-256': 'sha256', MD5: 'md5' };

export function findAlgorithm(name: string): DigestAlgorithm | undefined {
  const lower = name.toLowerCase();
  return DIGEST_ALGORITHMS.find((a) => a.toLowerCase() === lower);
}

export function baseOf(alg: DigestAlgorithm): BaseAlgorithm {
  return alg.replace(/-sess$/, '') as BaseAlgorithm;
}

export function isSess(alg: DigestAlgorithm): boolean {
  return alg.endsWith('-sess');
}

/** H(data): lower-case hex of the algorithm's hash (RFC 7616 §3.4). One-shot: no Hash object. */
export function H(base: BaseAlgorithm, data: string | Buffer): string {
  return hash(NODE_HASH[base], data, 'hex');
}

/** KD(secret, data) = H(concat(secret, ":", data)) (RFC 7616 §3.4.1). */
export function KD(base: BaseAlgorithm, secret: string, data: string): string {
  return H(base, `${secret}:${data}`);
}
