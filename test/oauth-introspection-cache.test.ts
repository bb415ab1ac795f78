// Introspection serves opaque-token rows from a cache that a revocation anywhere invalidates: a token
// revoked through one instance is inactive at the other at once (SQLite: the change log; PostgreSQL:
// NOTIFY, a few milliseconds later).
import { afterEach, expect, it, vi } from 'vitest';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import { basic } from './support/http.js';
import { postForm } from './support/jwt-login.js';
import { createTestDatabase, startServer, type TestDatabase, type TestServer } from './support/server.js';

describeEachEngine('introspection cache', (engine) => {
  let db: TestDatabase | undefined;
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    await db?.drop();
  });

  it('a revocation through instance A makes the token inactive at instance B, which had it cached', async () => {
    db = await createTestDatabase(engine);
    const flags = { ...FAST_ARGON2, issuer: 'http://gatehouse.test' };
    const a = await startServer(db, { flags });
    servers.push(a);
    const { secret } = await a.g.clients.create({ clientId: 'svc', grantTypes: ['client_credentials'], tokenFormat: 'opaque' });
    const b = await startServer(db, { flags });
    servers.push(b);
    const auth = { authorization: basic('svc', secret!) };
    const token = (await postForm(`${a.url}/oauth/token`, { grant_type: 'client_credentials' }, auth)).json().access_token as string;
    const introspect = async (s: TestServer) => (await postForm(`${s.url}/oauth/introspect`, { token }, auth)).json();
    expect(await introspect(b)).toMatchObject({ active: true, client_id: 'svc' });
    expect(await introspect(b)).toMatchObject({ active: true }); // now from B's cache
    expect(await introspect(a)).toMatchObject({ active: true }); // and from A's
    expect((await postForm(`${a.url}/oauth/revoke`, { token }, auth)).status).toBe(200);
    await vi.waitFor(async () => expect(await introspect(b)).toEqual({ active: false }), { timeout: 3000, interval: 20 });
    expect(await introspect(a)).toEqual({ active: false });
  });
});
