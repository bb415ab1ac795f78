// Helpers for the OpenID Connect interoperability tests: an openid-client (v6) relying party for a
// test server, an ID-token check written apart from the server (jose against the published JWKS),
// and at_hash / c_hash computed independently of src/oidc/id-token.ts.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { expect } from 'vitest';
import { Browser } from './authorize.js';

/** The hash OIDC Core §3.1.3.6 pairs with a JWS algorithm (EdDSA over Ed25519: SHA-512). */
function hashOfAlg(alg: string | undefined): string {
  if (alg === undefined) throw new Error('no alg in the JWS header');
  if (/^(RS|PS|ES)256$/.test(alg)) return 'sha256';
  if (/^(RS|PS|ES)384$/.test(alg)) return 'sha384';
  if (/^(RS|PS|ES)512$/.test(alg) || alg === 'EdDSA' || alg === 'Ed25519') return 'sha512';
  throw new Error(`no OIDC hash for alg ${alg}`);
}

/** at_hash / c_hash: base64url of the left half of the hash of the ASCII value. */
export function leftHalfHash(alg: string | undefined, value: string): string {
  const digest = createHash(hashOfAlg(alg)).update(Buffer.from(value, 'ascii')).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export interface RelyingParty {
  config: client.Configuration;
  clientId: string;
}

/** An openid-client configuration through OIDC discovery of `issuer` (plain http allowed; ID tokens
 * from the token endpoint also have their signatures checked: enableNonRepudiationChecks). */
export async function relyingParty(
  issuer: string,
  clientId: string,
  metadata: Partial<client.ClientMetadata> | string | undefined,
  auth: client.ClientAuth,
  execute: Array<(c: client.Configuration) => void> = [],
): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, metadata, auth, {
    execute: [client.allowInsecureRequests, client.enableNonRepudiationChecks, ...execute],
  });
}

export interface VerifiedIdToken {
  payload: JWTPayload & Record<string, unknown>;
  header: ProtectedHeaderParameters;
}

/** Verify an ID token as an independent relying party would: a fresh remote JWK Set from the
 * discovered jwks_uri, the issuer, this client as audience, typ JWT, an asymmetric algorithm. */
export async function verifyIdToken(jwksUri: string, token: string, o: { issuer: string; audience: string }): Promise<VerifiedIdToken> {
  const jwks = createRemoteJWKSet(new URL(jwksUri));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: o.issuer,
    audience: o.audience,
    typ: 'JWT',
    algorithms: ['ES256', 'RS256', 'EdDSA'],
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
  });
  return { payload: payload as VerifiedIdToken['payload'], header: protectedHeader };
}

export function kidOf(token: string): string | undefined {
  return decodeProtectedHeader(token).kid;
}

/** The parameters of the fragment of a redirect (implicit and hybrid responses). */
export function fragmentParams(location: string): URLSearchParams {
  return new URLSearchParams(new URL(location).hash.slice(1));
}

/** A code-flow style callback URL (what a relying party's redirect endpoint would receive), built
 * from response parameters that arrived some other way (a fragment read by the RP's page). */
export function callbackWithQuery(redirectUri: string, params: Record<string, string>): URL {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u;
}

/** Sign in through the pages of the authorization request `url` (Gatehouse's origin); the redirect
 * must carry its answer in the fragment, never the query. */
export async function signInForFragment(url: URL, username: string): Promise<{ location: URL; fragment: URLSearchParams }> {
  const { final, pages } = await new Browser(url.origin).walk(url.href, username);
  expect(pages).toEqual(['login', 'redirect']);
  const location = new URL(final.headers.location!);
  expect(location.search).toBe(''); // never in the query
  return { location, fragment: fragmentParams(location.href) };
}
