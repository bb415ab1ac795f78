// One signing key pair: generated with jose, stored with its private JWK sealed under the server
// key (catalogue ST-03), and opened again at start. The kid is the RFC 7638 thumbprint, so kids are
// distinct and say nothing about the server.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { SecretBox } from '../crypto/secret-box.js';
import type { SigningKeyRow } from '../store/signing-keys.js';

export const SIGNING_ALGORITHMS = ['ES256', 'RS256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  /** The public JWK as published: kty and key members, kid, alg, use. */
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  createdAt: number;
  activeFrom: number | null;
  activeUntil: number | null;
  publishedUntil: number | null;
}

export type KeyState = 'next' | 'active' | 'retired' | 'removed';

export function keyState(k: Pick<SigningKey, 'activeFrom' | 'activeUntil' | 'publishedUntil'>, now: number): KeyState {
  if (k.activeFrom === null || now < k.activeFrom) return 'next';
  if (k.activeUntil === null || now < k.activeUntil) return 'active';
  if (k.publishedUntil === null || now < k.publishedUntil) return 'retired';
  return 'removed';
}

const context = (kid: string) => `signing-key:${kid}`;

export async function generateSigningKey(alg: SigningAlgorithm, box: SecretBox, now: number): Promise<SigningKeyRow> {
  const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}), ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
  const pub = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  const publicJwk: JWK = { ...pub, kid, alg, use: 'sig' };
  const privateJwk = await exportJWK(pair.privateKey);
  return {
    kid,
    alg,
    public_jwk: JSON.stringify(publicJwk),
    private_jwk: box.seal(JSON.stringify(privateJwk), context(kid)),
    created_at: now,
    active_from: null,
    active_until: null,
    published_until: null,
  };
}

export class KeyDecryptionError extends Error {}

/** Open a stored key. Throws KeyDecryptionError when the sealed private part does not open. */
export async function openSigningKey(row: SigningKeyRow, box: SecretBox): Promise<SigningKey> {
  let privateJwk: JWK;
  try {
    privateJwk = JSON.parse(box.open(row.private_jwk, context(row.kid))) as JWK;
  } catch (err) {
    throw new KeyDecryptionError(`signing key ${row.kid} does not decrypt: ${(err as Error).message}`);
  }
  const alg = row.alg as SigningAlgorithm;
  const publicJwk = JSON.parse(row.public_jwk) as JWK;
  return {
    kid: row.kid,
    alg,
    publicJwk,
    publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
    privateKey: (await importJWK(privateJwk, alg)) as CryptoKey,
    createdAt: row.created_at,
    activeFrom: row.active_from,
    activeUntil: row.active_until,
    publishedUntil: row.published_until,
  };
}
