// Helpers for the JWT login and session tests: JSON and form posts, and the login/refresh/logout calls.
import { request, type RawResponse } from './http.js';

export const PW = 'correct horse battery staple';

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export function postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() });
}

export interface TokenPair {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
}

/** POST /auth/login; throws unless 200. */
export async function login(base: string, username = 'alice', password = PW): Promise<TokenPair> {
  const r = await postJson(`${base}/auth/login`, { username, password });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.body}`);
  return r.json() as TokenPair;
}

export function refresh(base: string, refreshToken: string): Promise<RawResponse> {
  return postJson(`${base}/auth/refresh`, { refresh_token: refreshToken });
}

export function logout(base: string, refreshToken: string): Promise<RawResponse> {
  return postJson(`${base}/auth/logout`, { refresh_token: refreshToken });
}

export function bearer(url: string, token: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
}

/** Decode a JWT segment (no verification: for looking at what we issued). */
export function decodeSegment(token: string, i: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
