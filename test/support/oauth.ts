// Helpers for the OAuth token-side tests: raw token/revoke/introspect posts, RFC 6749 §2.3.1 Basic
// credentials, authorization codes inserted directly (no authorization endpoint yet), PKCE, and an
// oauth4webapi view of the server.
import { createHash } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import { hashToken, randomToken } from '../../src/crypto/tokens.js';
import { request, type RawResponse } from './http.js';
import type { TestServer } from './server.js';

export const INSECURE = { [oauth.allowInsecureRequests]: true } as const;

/** RFC 6749 §2.3.1 / Appendix B: application/x-www-form-urlencoded, then Basic. */
export function formUrlEncode(s: string): string {
  return new URLSearchParams({ x: s }).toString().slice(2);
}

export function clientBasic(id: string, secret: string, encode = true): string {
  const u = encode ? formUrlEncode(id) : id;
  const p = encode ? formUrlEncode(secret) : secret;
  return 'Basic ' + Buffer.from(`${u}:${p}`, 'utf8').toString('base64');
}

/** POST a form (fields given as [name, value] pairs so a name may repeat). */
export function post(url: string, fields: Record<string, string> | string[][], headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function newVerifier(): string {
  return randomToken(48); // 64 characters of base64url: valid PKCE verifier
}

export interface CodeOptions {
  clientId: string;
  userId: string;
  redirectUri: string;
  scope?: string;
  /** The verifier whose S256 challenge is bound; null for no challenge. */
  verifier: string | null;
  ttlMs?: number;
}

/** Insert an authorization code row (as the future authorization endpoint would); returns the code. */
export async function insertCode(s: Pick<TestServer, 'g'>, o: CodeOptions): Promise<string> {
  const code = randomToken();
  const now = s.g.clock.now();
  await s.g.store.authorizationCodes.create({
    code_hash: hashToken(code),
    client_id: o.clientId,
    user_id: o.userId,
    redirect_uri: o.redirectUri,
    scope: o.scope ?? 'api',
    code_challenge: o.verifier === null ? null : s256(o.verifier),
    nonce: null,
    auth_time: now,
    created_at: now,
    expires_at: now + (o.ttlMs ?? 60_000),
    used_at: null,
    family_id: null, sid: null,
  });
  return code;
}

/** The authorization server as oauth4webapi sees it, through RFC 8414 discovery. */
export async function discover(url: string): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(url);
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...INSECURE });
  return oauth.processDiscoveryResponse(issuer, res);
}
