// OIDC Core §6, §3.1.2.6: request objects (request, request_uri) and dynamic registration are not
// supported: asked for, they are refused with their own error codes on the redirect (conformance:
// "request_uri / request object supported correctly or rejected"), never silently ignored, while
// other unknown parameters are ignored (AZ-19). On both engines.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { request } from './support/http.js';
import { newVerifier, s256 } from './support/oauth.js';
import { startOne, type TestServer } from './support/server.js';

const CB = 'http://127.0.0.1:9/cb';

describeEachEngine('unsupported OIDC request parameters', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startOne(engine);
    await s.g.clients.create({ clientId: 'rp', grantTypes: ['authorization_code'], redirectUris: [CB] });
  });
  afterAll(async () => s?.close());

  const authorize = (extra: Record<string, string>) =>
    request(`${s.url}/oauth/authorize?${new URLSearchParams({ client_id: 'rp', redirect_uri: CB, response_type: 'code', scope: 'openid', state: 'st', code_challenge: s256(newVerifier()), code_challenge_method: 'S256', ...extra })}`);

  it.each([
    ['request', 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.', 'request_not_supported'],
    ['request_uri', 'https://rp.example/request.jwt', 'request_uri_not_supported'],
    ['registration', '{"client_name":"x"}', 'registration_not_supported'],
  ])('%s → redirect with error=%s, state and iss, no login page', async (name, value, error) => {
    const r = await authorize({ [name]: value });
    expect(r.status).toBe(303);
    const q = new URL(String(r.headers.location)).searchParams;
    expect(q.get('error')).toBe(error);
    expect(q.get('state')).toBe('st');
    expect(q.get('iss')).toBe(s.url);
  });

  it('other unknown or ignored parameters (claims, ui_locales, display, acr_values, x) still reach the login page', async () => {
    const r = await authorize({ claims: '{"userinfo":{"email":null}}', ui_locales: 'fr', display: 'popup', acr_values: 'urn:x', x: 'y' });
    expect(r.status).toBe(200);
    expect(r.body).toContain('name="password"');
  });
});
