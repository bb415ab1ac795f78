// Helpers for the Digest suites: fetch challenges, answer one, send it, read Authentication-Info.
// Built on the independent client in digest-client.ts; nothing here imports the server's Digest code.
import { expect } from 'vitest';
import { answer, parseChallenges, type AnswerOptions, type Challenge } from './digest-client.js';
import { request, type RawResponse } from './http.js';

export const PATH = '/api/digest/resources';

/** Flags for a quick test server: cheap argon2, and the login throttle off (DG-14 is tested elsewhere;
 * here many deliberate failures on one account must not turn into 429). */
export const FAST: Record<string, string> = { 'argon2-memory': '1024', 'argon2-time': '1', throttle: 'false' };

/** GET the resource without credentials and return the Digest challenges (asserting the 401). */
export async function challenges(base: string, path = PATH): Promise<Challenge[]> {
  const r = await request(base + path);
  expect(r.status).toBe(401);
  return parseChallenges(r.all('www-authenticate'));
}

/** A fresh challenge for one algorithm (the first one offered when not named). */
export async function challengeFor(base: string, algorithm?: string): Promise<Challenge> {
  const all = await challenges(base);
  const ch = algorithm ? all.find((c) => c.algorithm === algorithm) : all[0];
  if (!ch) throw new Error(`no ${algorithm} challenge in ${JSON.stringify(all)}`);
  return ch;
}

export type Ask = Omit<AnswerOptions, 'uri'> & { uri?: string; path?: string; headers?: Record<string, string> };

/** Answer `ch` and send the request; returns the response and the answer (for rspauth). */
export async function send(base: string, ch: Challenge, o: Ask): Promise<{ r: RawResponse; a: ReturnType<typeof answer> }> {
  const path = o.path ?? PATH;
  const a = answer(ch, { ...o, uri: o.uri ?? path });
  const r = await request(base + path, {
    method: o.method ?? 'GET',
    headers: { authorization: a.header, ...(o.body !== undefined ? { 'content-type': 'application/octet-stream' } : {}), ...(o.headers ?? {}) },
    ...(o.body !== undefined ? { body: o.body } : {}),
  });
  return { r, a };
}

/** Send a literal Authorization value. */
export function sendRaw(base: string, authorization: string, path = PATH): Promise<RawResponse> {
  return request(base + path, { headers: { authorization } });
}

/** Parameters of an Authentication-Info field (same auth-param syntax as a challenge). */
export function authInfo(r: RawResponse): Record<string, string> {
  const v = r.headers['authentication-info'];
  expect(typeof v, 'Authentication-Info present').toBe('string');
  return { ...parseChallenges([`Digest ${v as string}`])[0]! } as Record<string, string>;
}

/** A 401 carrying fresh Digest challenges, with stale=true or without stale. */
export function expectRejected(r: RawResponse, stale: boolean): void {
  expect(r.status, r.body).toBe(401);
  const chs = parseChallenges(r.all('www-authenticate'));
  expect(chs.length).toBeGreaterThan(0);
  for (const c of chs) {
    if (stale) expect(c.stale).toBe('true');
    else expect(c.stale === undefined || c.stale.toLowerCase() === 'false').toBe(true);
  }
}

export function expectBadRequest(r: RawResponse): void {
  expect(r.status, r.body).toBe(400);
  expect(r.json()).toMatchObject({ error: 'invalid_request' });
}
