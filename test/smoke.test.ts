import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { basic, request } from './support/http.js';
import { answer, parseChallenges } from './support/digest-client.js';
import { startOne } from './support/server.js';

describeEachEngine('smoke', (engine) => {
  let s: Awaited<ReturnType<typeof startOne>>;
  beforeAll(async () => {
    s = await startOne(engine);
    await s.addUser('alice', 'correct horse battery');
  });
  afterAll(async () => s?.close());

  it('serves the public endpoint', async () => {
    const r = await request(`${s.url}/api/public`);
    expect(r.status).toBe(200);
  });

  it('accepts Basic with the right password', async () => {
    const r = await request(`${s.url}/api/basic/resources`, { headers: { authorization: basic('alice', 'correct horse battery') } });
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({ scheme: 'Basic', user: { username: 'alice' } });
  });

  it('completes a Digest handshake', async () => {
    const first = await request(`${s.url}/api/digest/resources`);
    expect(first.status).toBe(401);
    const [ch] = parseChallenges(first.all('www-authenticate'));
    const a = answer(ch!, { username: 'alice', password: 'correct horse battery', uri: '/api/digest/resources' });
    const r = await request(`${s.url}/api/digest/resources`, { headers: { authorization: a.header } });
    expect(r.status).toBe(200);
    expect(r.headers['authentication-info']).toContain(`rspauth="${a.rspauth(r.body)}"`);
  });
});
