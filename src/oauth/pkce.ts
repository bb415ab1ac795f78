// RFC 7636 PKCE. Only S256 (plain is refused, RFC 9700 §2.1.1); the verifier is 43-128 unreserved
// characters (§4.1) and its SHA-256, base64url, must equal the challenge (§4.6), compared in constant
// time.
import { createHash } from 'node:crypto';
import { safeEqual } from '../crypto/compare.js';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isValidChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!VERIFIER.test(verifier)) return false;
  return safeEqual(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}
