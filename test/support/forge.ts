// Forging JWS compact tokens for the attack tests: header and payload given as objects or as exact
// JSON text (for duplicate members), signed with any CryptoKey through WebCrypto, so nothing between
// the test and the server tidies the token up (jose refuses to sign many of these on purpose).
import { createHmac } from 'node:crypto';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type CryptoKey, type JWK } from 'jose';
import type { TestServer } from './server.js';

export type Json = Record<string, unknown>;

export const b64u = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

const WEBCRYPTO: Record<string, AlgorithmIdentifier | EcdsaParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  EdDSA: { name: 'Ed25519' },
};

/** The raw JWS signature (for ES256 the IEEE P1363 r||s form RFC 7518 requires). */
export async function rawSign(alg: string, key: CryptoKey, signingInput: string): Promise<Buffer> {
  const params = WEBCRYPTO[alg];
  if (!params) throw new Error(`rawSign: no WebCrypto mapping for ${alg}`);
  return Buffer.from(await crypto.subtle.sign(params, key, Buffer.from(signingInput, 'ascii')));
}

/** header.payload.signature from exact JSON texts, signed with `key` under `alg`. */
export async function forgeText(headerText: string, payloadText: string, key: CryptoKey, alg: string): Promise<string> {
  const input = `${b64u(headerText)}.${b64u(payloadText)}`;
  return `${input}.${b64u(await rawSign(alg, key, input))}`;
}

/** A token from objects; members whose value is undefined are left out. */
export function forge(header: Json, payload: Json, key: CryptoKey, alg = String(header.alg)): Promise<string> {
  return forgeText(JSON.stringify(header), JSON.stringify(payload), key, alg);
}

/** An HS256 token whose HMAC key is `secret` (the JW-03 key-confusion attack). */
export function hs256(header: Json, payload: Json, secret: string | Buffer): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The server's active signing key: a genuine signature for claims the server never issued. */
export function serverKey(s: Pick<TestServer, 'g'>): { kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK } {
  const k = s.g.keys.signing();
  return { kid: k.kid, alg: k.alg, privateKey: k.privateKey, publicJwk: k.publicJwk };
}

/** A key pair of our own, with its public JWK and thumbprint kid. */
export async function attackerKey(alg = 'ES256'): Promise<{ kid: string; alg: string; privateKey: CryptoKey; publicJwk: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  const pub = await exportJWK(pair.publicKey);
  const kid = await calculateJwkThumbprint(pub, 'sha256');
  return { kid, alg, privateKey: pair.privateKey, publicJwk: { ...pub, kid, alg, use: 'sig' } };
}

/** Replace one segment (0 header, 1 payload, 2 signature) of a compact token. */
export function withSegment(token: string, i: 0 | 1 | 2, segment: string): string {
  const parts = token.split('.');
  parts[i] = segment;
  return parts.join('.');
}

/** The token with one bit of the decoded segment `i` flipped, re-encoded canonically. */
export function flipBit(token: string, i: 0 | 1 | 2, bit: number): string {
  const bytes = Buffer.from(token.split('.')[i]!, 'base64url');
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return withSegment(token, i, bytes.toString('base64url'));
}
