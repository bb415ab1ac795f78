// A stop loses nothing under way: a back-channel logout already started (its session's client
// records taken from the store) is delivered before close() returns, and a maintenance run under
// way finishes before the store closes. Both engines.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { startMaintenance } from '../src/maintenance.js';
import { describeEachEngine } from './support/engines.js';
import { request } from './support/http.js';
import { newVerifier, s256 } from './support/oauth.js';
import { startOne } from './support/server.js';

const PW = 'correct horse battery staple';

describeEachEngine('stopping', (engine) => {
  it('close() waits for a back-channel logout under way (a session that expired just before)', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const events: string[] = [];
    const rp = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        events.push('rp received');
        // The client answers only once the server has been asked to stop.
        void held.then(() => {
          events.push('rp answered');
          res.writeHead(200).end();
        });
      });
    });
    await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
    const clock = new ManualClock();
    const s = await startOne(engine, { clock, flags: { 'session-idle-ttl': '600' } });
    try {
      const port = (rp.address() as AddressInfo).port;
      await s.g.clients.create({ clientId: 'rp', grantTypes: ['authorization_code'], redirectUris: ['http://127.0.0.1:9/cb'], requireConsent: false, backchannelLogoutUri: `http://127.0.0.1:${port}/bc` });
      await s.addUser('ann', PW);
      const login = await request(`${s.url}/session/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'ann', password: PW }) });
      const cookie = String(login.all('set-cookie')[0]).split(';')[0]!;
      const q = new URLSearchParams({ client_id: 'rp', redirect_uri: 'http://127.0.0.1:9/cb', response_type: 'code', scope: 'openid', code_challenge: s256(newVerifier()), code_challenge_method: 'S256' });
      expect((await request(`${s.url}/oauth/authorize?${q}`, { headers: { cookie } })).status).toBe(303);
      clock.advance(601_000);
      // The expired session ends on this request; its clients are told without this request waiting.
      await request(`${s.url}/oauth/authorize?${q}`, { headers: { cookie } });
      await expect.poll(() => events).toContain('rp received');
      const closed = s.close().then(() => events.push('closed'));
      setTimeout(release, 50);
      await closed;
      expect(events).toEqual(['rp received', 'rp answered', 'closed']);
    } finally {
      release();
      await s.close().catch(() => {});
      await new Promise((r) => rp.close(r));
    }
  });

  it('stopping maintenance waits for the run under way', async () => {
    const s = await startOne(engine);
    try {
      // A run starts every 30 s: call the timer's work by hand through a fake interval.
      const realSetInterval = globalThis.setInterval;
      let tick: (() => void) | undefined;
      globalThis.setInterval = ((fn: () => void) => ((tick = fn), realSetInterval(() => {}, 1 << 30))) as typeof setInterval;
      let stop: () => Promise<void>;
      try {
        stop = startMaintenance(s.g, () => {});
      } finally {
        globalThis.setInterval = realSetInterval;
      }
      const events: string[] = [];
      const purge = s.g.store.changeLog.purge.bind(s.g.store.changeLog);
      s.g.store.changeLog.purge = async (before) => {
        await new Promise((r) => setTimeout(r, 30));
        await purge(before);
        events.push('maintenance done');
      };
      tick!();
      await stop().then(() => events.push('stopped'));
      expect(events).toEqual(['maintenance done', 'stopped']);
    } finally {
      await s.close();
    }
  });
});
