// CORS (src/http/cors.ts): browser applications (the implicit and hybrid flows) read OIDC Discovery,
// the JWKS and UserInfo from their own origin: any origin, never with credentials, preflights
// answered. The authorization, token and session endpoints send no CORS headers (catalogue AZ-26).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from './support/http.js';
import { startOne, type TestServer } from './support/server.js';

describe('CORS', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startOne('sqlite');
  });
  afterAll(async () => s?.close());

  const APP = { origin: 'https://app.example' };

  it.each(['/.well-known/openid-configuration', '/.well-known/jwks.json'])('GET %s is readable by any origin, without credentials', async (path) => {
    const r = await request(`${s.url}${path}`, { headers: APP });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('UserInfo: a preflight allows GET and POST with Authorization; its errors are readable too', async () => {
    const pre = await request(`${s.url}/oidc/userinfo`, { method: 'OPTIONS', headers: { ...APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(pre.headers['access-control-allow-methods']).toBe('GET, POST');
    expect(pre.headers['access-control-allow-headers']).toContain('authorization');
    const r = await request(`${s.url}/oidc/userinfo`, { headers: { ...APP, authorization: 'Bearer nope' } });
    expect(r.status).toBe(401);
    expect(r.headers['access-control-allow-origin']).toBe('*');
  });

  it.each([
    ['GET', '/oauth/authorize'],
    ['POST', '/oauth/token'],
    ['POST', '/session/login'],
    ['GET', '/oidc/logout'],
  ])('%s %s sends no CORS header (AZ-26)', async (method, path) => {
    const r = await request(`${s.url}${path}`, { method, headers: { ...APP, 'content-type': 'application/x-www-form-urlencoded' }, body: method === 'POST' ? '' : undefined });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});
