// Back-Channel Logout 1.0 when sessions end without a logout request: a password change or a disable
// ends every session of the user (catalogue SS-06), and each client those sessions signed in to with
// openid is told, with the sid its ID tokens carried. Enabling a user tells no one. Both engines.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { hashToken } from '../src/crypto/tokens.js';
import { describeEachEngine } from './support/engines.js';
import { request } from './support/http.js';
import { newVerifier, s256 } from './support/oauth.js';
import { startOne, type TestServer } from './support/server.js';

const PW = 'correct horse battery staple';

describeEachEngine('back-channel logout on password change and disable', (engine) => {
  let s: TestServer;
  let rp: http.Server;
  const received: string[] = [];
  beforeAll(async () => {
    rp = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => rp.listen(0, '127.0.0.1', r));
    s = await startOne(engine);
    const port = (rp.address() as AddressInfo).port;
    await s.g.clients.create({ clientId: 'rp', grantTypes: ['authorization_code'], redirectUris: ['http://127.0.0.1:9/cb'], requireConsent: false, backchannelLogoutUri: `http://127.0.0.1:${port}/bc` });
  });
  afterEach(() => void received.splice(0));
  afterAll(async () => {
    await s?.close();
    await new Promise((r) => rp.close(r));
  });

  /** Sign in (a cookie session) and let the session obtain a code for scope openid; returns the sid. */
  async function signInToRp(username: string): Promise<string> {
    const login = await request(`${s.url}/session/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PW }) });
    expect(login.status).toBe(200);
    const cookie = String(login.all('set-cookie')[0]).split(';')[0]!;
    const q = new URLSearchParams({ client_id: 'rp', redirect_uri: 'http://127.0.0.1:9/cb', response_type: 'code', scope: 'openid', code_challenge: s256(newVerifier()), code_challenge_method: 'S256' });
    const r = await request(`${s.url}/oauth/authorize?${q}`, { headers: { cookie } });
    expect(r.status).toBe(303);
    const code = new URL(String(r.headers.location)).searchParams.get('code');
    expect(code).toBeTruthy();
    const row = await s.g.store.authorizationCodes.find(hashToken(code!));
    return row!.sid!;
  }

  it('a password change tells the client, with the session sid and the user as sub', async () => {
    await s.addUser('pat', PW);
    const sid = await signInToRp('pat');
    await s.g.accounts.setPassword('pat', `${PW} changed`);
    expect(received).toHaveLength(1);
    const claims = decodeJwt(received[0]!);
    expect(claims.sid).toBe(sid);
    expect(claims.sub).toBe((await s.g.store.users.findByKey('pat'))?.id);
    expect(claims.aud).toBe('rp');
  });

  it('disabling tells the client once; enabling again tells no one', async () => {
    await s.addUser('dee', PW);
    const sid = await signInToRp('dee');
    await s.g.accounts.setDisabled('dee', true);
    await s.g.accounts.setDisabled('dee', false);
    expect(received.map((t) => decodeJwt(t).sid)).toEqual([sid]);
  });
});
