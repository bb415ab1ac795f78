// Catalogue R-04: when the database goes away the server fails closed (503 with Retry-After and a JSON
// error; never 200, never 500, never a 401 counted in some in-memory fallback), the readiness probe
// goes false, and everything works again once the database is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answer, parseChallenges, type Challenge } from './support/digest-client.js';
import { POSTGRES_URL, postgresProblem } from './support/engines.js';
import { basic, request, type RawResponse } from './support/http.js';
import { createTestDatabase, startOne, startServer, type TestDatabase, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';

const PW = 'correct horse battery staple';
const DIGEST = '/api/digest/resources';

function expectFailClosed(r: RawResponse): void {
  expect(r.status).toBe(503);
  expect(r.headers['retry-after']).toMatch(/^\d+$/);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.json()).toMatchObject({ error: 'temporarily_unavailable' });
  expect(r.body).not.toMatch(/ECONNREFUSED|Connection terminated|127\.0\.0\.1|postgres/i);
}

async function digestChallenge(url: string): Promise<Challenge> {
  const first = await request(`${url}${DIGEST}`);
  expect(first.status).toBe(401);
  const ch = parseChallenges(first.all('www-authenticate')).find((c) => c.algorithm === 'SHA-256');
  expect(ch).toBeDefined();
  return ch!;
}

describe('database reachable [sqlite]', () => {
  let s: Awaited<ReturnType<typeof startOne>>;
  beforeAll(async () => {
    s = await startOne('sqlite');
  });
  afterAll(async () => s?.close());

  it('/ready answers 200 and /health 200', async () => {
    const ready = await request(`${s.url}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    expect((await request(`${s.url}/health`)).status).toBe(200);
  });
});

const problem = await postgresProblem();
const describePostgres = problem ? describe.skip : describe;

describePostgres(`PostgreSQL outage behind a TCP proxy${problem ? ' (skipped: PostgreSQL not reachable)' : ''}`, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let s: TestServer;
  let login: (pw: string) => Promise<RawResponse>;
  /** A Digest challenge issued just before the outage. */
  let challenge: Challenge;

  beforeAll(async () => {
    const target = new URL(POSTGRES_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const real = await createTestDatabase('postgres');
    const viaProxy = new URL(real.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    db = { ...real, url: viaProxy.toString() };
    s = await startServer(db);
    await s.addUser('alice', PW);
    login = (pw) => request(`${s.url}/api/basic/resources`, { headers: { authorization: basic('alice', pw) } });
  });
  afterAll(async () => {
    if (proxy && !proxy.listening) await proxy.restore().catch(() => {});
    await s?.close();
    await db?.drop();
    await proxy?.cut();
  });

  it('works while the database is reachable, through the proxy', async () => {
    expect(s.g.store.describe).toContain(`:${proxy.port}/`);
    expect(proxy.accepted).toBeGreaterThan(0);
    expect((await request(`${s.url}/ready`)).status).toBe(200);
    expect((await login(PW)).status).toBe(200);
    const ch = await digestChallenge(s.url);
    const a = answer(ch, { username: 'alice', password: PW, uri: DIGEST });
    expect((await request(`${s.url}${DIGEST}`, { headers: { authorization: a.header } })).status).toBe(200);
  });

  describe('with the database cut off', () => {
    beforeAll(async () => {
      challenge = await digestChallenge(s.url);
      await proxy.cut();
    });

    it('/ready answers 503 with Retry-After; /health stays 200', async () => {
      const r = await request(`${s.url}/ready`);
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toMatch(/^\d+$/);
      expect(r.json()).toMatchObject({ status: 'unavailable', error: 'temporarily_unavailable' });
      expect((await request(`${s.url}/health`)).status).toBe(200);
    });

    it('Basic with the right password (verified a moment ago, so cached) fails closed with 503', async () => {
      for (let i = 0; i < 3; i++) expectFailClosed(await login(PW));
    });

    it('Basic with a wrong password is 503 too, not a 401 counted nowhere', async () => {
      expectFailClosed(await login('not the password'));
    });

    it('Digest with a correct answer fails closed with 503', async () => {
      const a = answer(challenge, { username: 'alice', password: PW, uri: DIGEST });
      expectFailClosed(await request(`${s.url}${DIGEST}`, { headers: { authorization: a.header } }));
      const b = answer(challenge, { username: 'alice', password: 'wrong', uri: DIGEST, nc: 2 });
      expectFailClosed(await request(`${s.url}${DIGEST}`, { headers: { authorization: b.header } }));
    });

    it('public endpoints that need no database still answer', async () => {
      expect((await request(`${s.url}/api/public`)).status).toBe(200);
    });
  });

  describe('after the database comes back on the same address', () => {
    beforeAll(async () => {
      if (proxy.listening) await proxy.cut();
      await proxy.restore();
    });

    it('/ready answers 200 again', async () => {
      const r = await request(`${s.url}/ready`);
      expect(r.status).toBe(200);
    });

    it('Basic and Digest succeed again; the wrong password still fails', async () => {
      expect((await login(PW)).status).toBe(200);
      expect((await login('still not the password')).status).toBe(401);
      const ch = await digestChallenge(s.url);
      const a = answer(ch, { username: 'alice', password: PW, uri: DIGEST });
      const r = await request(`${s.url}${DIGEST}`, { headers: { authorization: a.header } });
      expect(r.status).toBe(200);
      expect(r.headers['authentication-info']).toContain(`rspauth="${a.rspauth(r.body)}"`);
    });

    it('a Digest nonce issued before the outage works after it, once', async () => {
      // The attempts during the outage claimed nothing, so (nonce, nc=1) is still unused.
      const a = answer(challenge, { username: 'alice', password: PW, uri: DIGEST, nc: 1 });
      expect((await request(`${s.url}${DIGEST}`, { headers: { authorization: a.header } })).status).toBe(200);
      const replay = await request(`${s.url}${DIGEST}`, { headers: { authorization: a.header } });
      expect(replay.status).toBe(401);
    });
  });
});
