// Helpers for the OpenID Connect provider tests (test/oidc-provider.test.ts): an independent check of
// ID tokens and logout tokens against the published JWKS (jose), at_hash / c_hash computed here from
// the spec (not with Gatehouse's code), and a small node:http server that plays a relying party's
// back-channel logout endpoint.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { request } from './http.js';

/** The JWKS as published right now. */
export async function fetchJwks(base: string): Promise<JSONWebKeySet> {
  const r = await request(`${base}/.well-known/jwks.json`);
  if (r.status !== 200) throw new Error(`JWKS: ${r.status} ${r.body}`);
  return r.json() as JSONWebKeySet;
}

export interface VerifyOptions {
  issuer: string;
  audience: string;
  typ: string;
  /** The server's (manual) clock, so exp is judged at the server's time. */
  now: number;
}

/** Verify a JWT of the server against its JWKS (signature, alg from the key, iss, aud, typ, exp). */
export async function verifyServerJwt(base: string, token: string, o: VerifyOptions): Promise<{ payload: JWTPayload; header: ProtectedHeaderParameters }> {
  const keys = createLocalJWKSet(await fetchJwks(base));
  const { payload, protectedHeader } = await jwtVerify(token, keys, {
    issuer: o.issuer,
    audience: o.audience,
    typ: o.typ,
    algorithms: ['ES256', 'RS256', 'EdDSA', 'Ed25519'],
    currentDate: new Date(o.now),
  });
  return { payload, header: protectedHeader };
}

/** The hash function OIDC Core §3.1.3.6 pairs with a JWS alg (EdDSA with Ed25519: SHA-512). */
function hashNameFor(alg: string): string {
  if (/^(ES|RS|PS|HS)256$/.test(alg)) return 'sha256';
  if (/^(ES|RS|PS|HS)384$/.test(alg)) return 'sha384';
  if (/^(ES|RS|PS|HS)512$/.test(alg) || alg === 'EdDSA' || alg === 'Ed25519') return 'sha512';
  throw new Error(`no hash known for alg ${alg}`);
}

/** at_hash / c_hash: base64url of the left-most half of the hash of the ASCII octets of the value. */
export function leftHalfHash(alg: string, value: string): string {
  const digest = createHash(hashNameFor(alg)).update(Buffer.from(value, 'ascii')).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export function algOf(token: string): string {
  return String(decodeProtectedHeader(token).alg);
}

export interface Received {
  path: string;
  method: string;
  contentType: string | undefined;
  body: string;
  form: URLSearchParams;
}

/** A relying party's back-channel logout endpoint: records every request, answers 200. */
export class BackchannelReceiver {
  readonly received: Received[] = [];
  private server: http.Server | undefined;
  private base = '';

  async start(): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path: req.url ?? '', method: req.method ?? '', contentType: req.headers['content-type'], body, form: new URLSearchParams(body) });
        res.writeHead(200, { 'cache-control': 'no-store' });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  /** The URI to register for one client. */
  uri(name: string): string {
    return `${this.base}/backchannel/${encodeURIComponent(name)}`;
  }

  /** What arrived for one client. */
  for(name: string): Received[] {
    return this.received.filter((r) => r.path === `/backchannel/${encodeURIComponent(name)}`);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Decode a compact JWT payload without verifying (to look at what the server sent). */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
