// The demo resource takes JWT and opaque access tokens with scope `api`; without it, 403
// insufficient_scope (RFC 6750 §3.1); revoked or foreign tokens, 401 invalid_token.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import { basic, request } from './support/http.js';
import { postForm } from './support/jwt-login.js';
import { startOne, type TestDatabase, type TestServer } from './support/server.js';

describeEachEngine('the OAuth demo resource', (engine) => {
  let s: TestServer & { db: TestDatabase };
  const auth: Record<string, string> = {};
  beforeAll(async () => {
    s = await startOne(engine, { flags: { ...FAST_ARGON2, scopes: 'api,other' } });
    for (const [id, tokenFormat] of [['jwt-svc', 'jwt'], ['opaque-svc', 'opaque']] as const) {
      const { secret } = await s.g.clients.create({ clientId: id, grantTypes: ['client_credentials'], tokenFormat });
      auth[id] = basic(id, secret!);
    }
  });
  afterAll(async () => s.close());

  const token = async (client: string, scope: string) => {
    const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope }, { authorization: auth[client]! });
    expect(r.status).toBe(200);
    return r.json().access_token as string;
  };
  const call = (t: string) => request(`${s.url}/api/oauth/resources`, { headers: { authorization: `Bearer ${t}` } });

  it.each(['jwt-svc', 'opaque-svc'])('%s: scope api → 200; scope other → 403 insufficient_scope; revoked → 401', async (client) => {
    const good = await token(client, 'api');
    const ok = await call(good);
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ client_id: client, scope: 'api' });
    const narrow = await call(await token(client, 'other'));
    expect(narrow.status).toBe(403);
    expect(narrow.headers['www-authenticate']).toBe('Bearer realm="gatehouse", error="insufficient_scope", error_description="This resource needs scope api.", scope="api"');
    if (client === 'opaque-svc') {
      expect((await postForm(`${s.url}/oauth/revoke`, { token: good }, { authorization: auth[client]! })).status).toBe(200);
      const gone = await call(good);
      expect(gone.status).toBe(401);
      expect(gone.headers['www-authenticate']).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
    }
  });

  it('an unknown opaque-looking token and no token', async () => {
    expect((await call('A'.repeat(43))).status).toBe(401);
    const none = await request(`${s.url}/api/oauth/resources`);
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer realm="gatehouse"']);
  });
});
