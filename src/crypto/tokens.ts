// High-entropy bearer values (refresh tokens, session ids): 256 random bits, base64url, stored only
// as SHA-256. A hash is enough because the value cannot be guessed (RFC 6749 §10.10, catalogue ST-01).
import { createHash } from 'node:crypto';
import { randomPiece } from './random-pool.js';

export function randomToken(bytes = 32): string {
  return randomPiece(bytes).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A value we issued: 43 base64url characters. Anything else is refused before any lookup. */
export function looksLikeToken(value: unknown): value is string {
  return typeof value === 'string' && value.length === 43 && /^[A-Za-z0-9_-]+$/.test(value);
}
