// HTTP Digest (RFC 7616) over real HTTP against real servers, on both engines. IDs refer to section 4.2
// of the security test catalogue (DG-01 … DG-16). DG-14 (shared lockout counter) is covered elsewhere.
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { safeEqual } from '../src/crypto/compare.js';
import { Store } from '../src/store/store.js';
import { answer, parseChallenges, type Answer, type Challenge } from './support/digest-client.js';
import {
  authInfo, challengeFor, challenges, expectBadRequest, expectRejected, FAST, PATH, send, sendRaw,
} from './support/digest-extra.js';
import { describeEachEngine } from './support/engines.js';
import { basic, request } from './support/http.js';
import { createTestDatabase, startOne, startServer, type TestServer } from './support/server.js';

const PW = 'correct horse battery';
const DEFAULT_ORDER = ['SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'];
const alice = { username: 'alice', password: PW };

describeEachEngine('Digest', (engine) => {
  const clock = new ManualClock();
  let s: Awaited<ReturnType<typeof startOne>>;
  let b: TestServer; // instance B: same database, same configuration
  let md5: TestServer; // same database, MD5 and MD5-sess enabled

  beforeAll(async () => {
    s = await startOne(engine, { clock, flags: FAST });
    b = await startServer(s.db, { clock, flags: FAST });
    md5 = await startServer(s.db, { clock, flags: { ...FAST, 'digest-algorithms': 'SHA-256,MD5,MD5-sess' } });
    await s.addUser('alice', PW);
    await s.addUser('bob', PW);
    await s.g.accounts.setDisabled('bob', true);
    await s.addUser('jürgen', 'pässwört lang genug');
    await s.addUser('carol', PW); // created while MD5 was off: no MD5 H(A1) yet
    await md5.addUser('dave', PW); // created with MD5 on
  });
  afterAll(async () => {
    await md5?.close();
    await b?.close();
    await s?.close();
  });

  describe('challenges (DG-07)', () => {
    it('sends one challenge per algorithm in the configured order, then the first again', async () => {
      const r = await request(s.url + PATH);
      expect(r.status).toBe(401);
      expect(r.headers['cache-control']).toBe('no-store');
      const lines = r.all('www-authenticate');
      const chs = parseChallenges(lines);
      expect(chs.map((c) => c.algorithm)).toEqual([...DEFAULT_ORDER, 'SHA-256']);
      lines.forEach((line, i) => {
        expect(line).toMatch(/^Digest /);
        expect(line).toContain('qop="auth, auth-int"');
        expect(line).toMatch(new RegExp(`algorithm=${chs[i]!.algorithm}(,|$)`)); // a token, not quoted
      });
      for (const c of chs) {
        expect(c).toMatchObject({ realm: 'gatehouse', qop: 'auth, auth-int', userhash: 'true', charset: 'UTF-8' });
        expect(c.opaque).toMatch(/^\S{8,}$/);
        expect(c.nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
        expect(c.stale).toBeUndefined();
      }
      // Each algorithm its own nonce; the repeated first challenge carries the first one's nonce.
      expect(new Set(chs.map((c) => c.nonce)).size).toBe(DEFAULT_ORDER.length);
      expect(chs.at(-1)!.nonce).toBe(chs[0]!.nonce);
      // MD5 is off by default. (Look at the algorithm parameters only: a random nonce may spell "md5".)
      expect(chs.map((c) => c.algorithm).filter((a) => /MD5/i.test(a ?? ''))).toEqual([]);
    });

    it('offers MD5 and MD5-sess only when configured', async () => {
      const chs = await challenges(md5.url);
      expect(chs.map((c) => c.algorithm)).toEqual(['SHA-256', 'MD5', 'MD5-sess', 'SHA-256']);
    });
  });

  describe('success for every algorithm, with Authentication-Info', () => {
    const cases: [string, () => TestServer, string][] = [
      ...DEFAULT_ORDER.map((alg): [string, () => TestServer, string] => [alg, () => s, 'alice']),
      ['MD5', () => md5, 'dave'],
      ['MD5-sess', () => md5, 'dave'],
    ];
    it.each(cases)('%s', async (alg, server, username) => {
      const ch = await challengeFor(server().url, alg);
      const cnonce = randomBytes(12).toString('hex');
      const { r, a } = await send(server().url, ch, { username, password: PW, cnonce });
      expect(r.status, r.body).toBe(200);
      expect(r.json()).toMatchObject({ scheme: 'Digest', algorithm: alg, qop: 'auth', user: { username } });
      const info = authInfo(r);
      expect(info).toMatchObject({ rspauth: a.rspauth(r.body), qop: 'auth', nc: '00000001', cnonce });
      expect(info.nextnonce).toBeUndefined(); // nonce far from expiry (300 s TTL, 60 s window)
    });

    it('accepts the scheme name in any case (RFC 9110 §11.1)', async () => {
      const ch = await challengeFor(s.url);
      const r = await sendRaw(s.url, sendHeader(ch, { ...alice, uri: PATH }).replace(/^Digest/, 'dIGEST'));
      expect(r.status, r.body).toBe(200);
    });
  });

  describe('nonces and counts', () => {
    it('DG-01: a nonce the server never issued is refused without stale', async () => {
      const ch = await challengeFor(s.url);
      const foreign = { ...ch, nonce: randomBytes(34).toString('base64url') };
      expect(foreign.nonce).toHaveLength(ch.nonce.length);
      expectRejected((await send(s.url, foreign, alice)).r, false);
      expectRejected((await send(s.url, { ...ch, nonce: 'garbage' }, alice)).r, false);
      // The expiry is inside the nonce: pushing it later breaks the HMAC.
      const raw = Buffer.from(ch.nonce, 'base64url');
      raw[0] = raw[0]! ^ 0x01;
      expectRejected((await send(s.url, { ...ch, nonce: raw.toString('base64url') }, alice)).r, false);
      // A nonce (and its opaque) issued by a deployment with another key.
      const other = await startOne('sqlite', { flags: FAST });
      try {
        const alien = await challengeFor(other.url);
        expectRejected((await send(s.url, { ...ch, nonce: alien.nonce, opaque: alien.opaque }, alice)).r, false);
      } finally {
        await other.close();
      }
    });

    it('another deployment on the same database server (own schema/file) starts, and its nonces are refused here', async () => {
      const other = await startOne(engine, { flags: FAST });
      try {
        const ch = await challengeFor(s.url);
        const alien = await challengeFor(other.url);
        expectRejected((await send(s.url, { ...ch, nonce: alien.nonce, opaque: alien.opaque }, alice)).r, false);
      } finally {
        await other.close();
      }
    });

    it('DG-02: a byte-identical replay is refused', async () => {
      const ch = await challengeFor(s.url);
      const { r, a } = await send(s.url, ch, alice);
      expect(r.status).toBe(200);
      expectRejected(await sendRaw(s.url, a.header), false);
    });

    it('DG-03: counts out of order are each accepted once', async () => {
      const ch = await challengeFor(s.url);
      expect((await send(s.url, ch, { ...alice, nc: 3 })).r.status).toBe(200);
      expect((await send(s.url, ch, { ...alice, nc: 2 })).r.status).toBe(200);
      expectRejected((await send(s.url, ch, { ...alice, nc: 3 })).r, false); // new cnonce, same nc
      expectRejected((await send(s.url, ch, { ...alice, nc: 2 })).r, false);
      expect((await send(s.url, ch, { ...alice, nc: 1 })).r.status).toBe(200);
    });

    it('DG-04: nc must be 8 hex digits and not 0', async () => {
      const ch = await challengeFor(s.url);
      for (const nc of ['1', '0000001', '000000001', '0000000g', '0x000001', '00000000']) {
        expectBadRequest((await send(s.url, ch, { ...alice, nc })).r);
      }
    });

    it('DG-04: nc above --digest-max-nc gets stale=true; a jump pre-authorizes nothing', async () => {
      const ch = await challengeFor(s.url);
      expectRejected((await send(s.url, ch, { ...alice, nc: 10001 })).r, true);
      expectRejected((await send(s.url, ch, { ...alice, nc: 'ffffffff' })).r, true);
      expect((await send(s.url, ch, { ...alice, nc: 10000 })).r.status).toBe(200);
      expect((await send(s.url, ch, { ...alice, nc: 5 })).r.status).toBe(200);
      for (const nc of [1, 2, 3, 4]) expect((await send(s.url, ch, { ...alice, nc })).r.status).toBe(200);
      for (const nc of [1, 2, 3, 4, 5]) expectRejected((await send(s.url, ch, { ...alice, nc })).r, false);
    });

    it('DG-05: an expired nonce gets stale=true only with a correct digest', async () => {
      const ch = await challengeFor(s.url);
      clock.advance(301_000); // past --digest-nonce-ttl (300 s)
      const stale = (await send(s.url, ch, alice)).r;
      expectRejected(stale, true);
      expectRejected((await send(s.url, ch, { ...alice, password: 'wrong password' })).r, false);
      // The challenges that came with stale=true are fresh and work.
      const fresh = parseChallenges(stale.all('www-authenticate'))[0]!;
      expect((await send(s.url, fresh, alice)).r.status).toBe(200);
    });

    it('a nonce of the format before one HMAC served all algorithms gets stale=true, not a new login', async () => {
      // Issued by the previous version: its own HMAC-SHA-256 per algorithm, same key, epoch and layout.
      const nonces = s.g.digest.nonces as unknown as { key: Buffer; epoch: number };
      const head = Buffer.alloc(18);
      head.writeUIntBE(clock.now() + 60_000, 0, 6);
      randomBytes(12).copy(head, 6);
      const legacy = (alg: string) => Buffer.concat([head, createHmac('sha256', nonces.key).update(`nonce\0${nonces.epoch}\0gatehouse\0${alg}\0`).update(head).digest().subarray(0, 16)]).toString('base64url');
      const ch = { ...(await challengeFor(s.url, 'SHA-256')), nonce: legacy('SHA-256') };
      expectRejected((await send(s.url, ch, alice)).r, true);
      expectRejected((await send(s.url, ch, { ...alice, password: 'wrong password' })).r, false);
      // Bound to its algorithm as before: a SHA-256-sess nonce does not pass for SHA-256.
      expectRejected((await send(s.url, { ...ch, nonce: legacy('SHA-256-sess') }, alice)).r, false);
    });

    it('DG-06: no downgrade to MD5, and each nonce is bound to its algorithm', async () => {
      const sha = await challengeFor(s.url, 'SHA-256');
      const asMd5 = { ...alice, computeAlgorithm: 'MD5', override: { algorithm: 'MD5' } };
      expectRejected((await send(s.url, sha, asMd5)).r, false);
      expectRejected((await send(s.url, sha, { ...alice, computeAlgorithm: 'MD5', override: { algorithm: undefined } })).r, false);
      expectRejected((await send(s.url, sha, { ...alice, computeAlgorithm: 'MD5' })).r, false); // SHA-256 named, MD5 math
      // With MD5 enabled, a SHA-256 nonce still cannot carry an MD5 answer, nor the reverse.
      const dave = { username: 'dave', password: PW };
      const mdSha = await challengeFor(md5.url, 'SHA-256');
      expectRejected((await send(md5.url, mdSha, { ...dave, computeAlgorithm: 'MD5', override: { algorithm: 'MD5' } })).r, false);
      const mdCh = await challengeFor(md5.url, 'MD5');
      expectRejected((await send(md5.url, mdCh, { ...dave, computeAlgorithm: 'SHA-256', override: { algorithm: 'SHA-256' } })).r, false);
      const sess = await challengeFor(s.url, 'SHA-256-sess');
      expectRejected((await send(s.url, sess, { ...alice, computeAlgorithm: 'SHA-256', override: { algorithm: 'SHA-256' } })).r, false);
      expect((await send(md5.url, mdCh, dave)).r.status).toBe(200); // control
    });
  });

  describe('request fields', () => {
    let ch: Challenge;
    beforeAll(async () => {
      ch = await challengeFor(s.url);
    });
    let nc = 100;
    const next = () => ++nc;

    it('DG-08: no qop (RFC 2069 style) → 400', async () => {
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), override: { qop: undefined } })).r);
      expectBadRequest((await send(s.url, ch, { ...alice, override: { qop: undefined, nc: undefined, cnonce: undefined } })).r);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), override: { qop: 'auth-conf' } })).r);
    });

    it('DG-09: uri must name the request target', async () => {
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), uri: '/api/public' })).r);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), path: `${PATH}?x=1`, uri: PATH })).r);
      const { host } = new URL(s.url);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), uri: `http://evil.example${PATH}` })).r);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), uri: `http://${host}/api/public` })).r);
      const { r, a } = await send(s.url, ch, { ...alice, nc: next(), uri: `http://${host}${PATH}` });
      expect(r.status, r.body).toBe(200);
      expect(authInfo(r).rspauth).toBe(a.rspauth(r.body));
      expect((await send(s.url, ch, { ...alice, nc: next(), path: `${PATH}?x=1` })).r.status).toBe(200);
    });

    it('DG-10: wrong realm or altered opaque → 401', async () => {
      expectRejected((await send(s.url, { ...ch, realm: 'other' }, { ...alice, nc: next() })).r, false);
      expectRejected((await send(s.url, { ...ch, opaque: ch.opaque.slice(1) + 'A' }, { ...alice, nc: next() })).r, false);
      expectRejected((await send(s.url, ch, { ...alice, nc: next(), override: { opaque: undefined } })).r, false);
      expect((await send(s.url, ch, { ...alice, nc: next() })).r.status).toBe(200); // control
    });

    it('DG-11: userhash', async () => {
      const { r } = await send(s.url, ch, { ...alice, nc: next(), userhash: true });
      expect(r.status).toBe(200);
      expect(r.json().user.username).toBe('alice');
      expectRejected((await send(s.url, ch, { ...alice, nc: next(), override: { userhash: 'true' } })).r, false);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), override: { userhash: 'maybe' } })).r);
    });

    it('DG-12: username* (RFC 8187)', async () => {
      const j = { username: 'jürgen', password: 'pässwört lang genug' };
      const { r } = await send(s.url, ch, { ...j, nc: next(), extendedUsername: true });
      expect(r.status, r.body).toBe(200);
      expect(r.json().user.username).toBe('jürgen');
      expect((await send(s.url, ch, { ...j, nc: next(), userhash: true })).r.status).toBe(200);
      for (const bad of [`UTF-8''j%FCrgen`, `ISO-8859-1''j%FCrgen`, `UTF-8''j%C3`, `UTF-8''%zz`, `j%C3%BCrgen`, `"UTF-8''j%C3%BCrgen"x`]) {
        const r2 = (await send(s.url, ch, { ...j, nc: next(), extendedUsername: true, override: { 'username*': bad } })).r;
        expect(r2.status, bad).toBe(400);
      }
      expectBadRequest((await send(s.url, ch, { ...j, nc: next(), extendedUsername: true, override: { username: '"juergen"' } })).r);
      expectBadRequest((await send(s.url, ch, { ...j, nc: next(), extendedUsername: true, override: { userhash: 'true' } })).r);
    });

    it('DG-13: wrong responses of any length are 401, never a crash', async () => {
      for (const response of ['0'.repeat(32), '0'.repeat(64), 'f'.repeat(128), 'A'.repeat(64)]) {
        expectRejected((await send(s.url, ch, { ...alice, nc: next(), override: { response: `"${response}"` } })).r, false);
      }
      expectBadRequest((await send(s.url, ch, { ...alice, nc: next(), override: { response: '"zz"' } })).r);
      expect(safeEqual('a'.repeat(64), 'a'.repeat(32))).toBe(false);
      expect(safeEqual('a'.repeat(64), 'b'.repeat(64))).toBe(false);
      expect(safeEqual('ab', 'ab')).toBe(true);
    });
  });

  describe('DG-15: qop=auth-int', () => {
    it('signs the request body; rspauth covers the response body; a tampered body is refused', async () => {
      for (const alg of ['SHA-256', 'SHA-512-256-sess']) {
        const ch = await challengeFor(s.url, alg);
        const body = JSON.stringify({ transfer: 100, to: 'bob' });
        const { r, a } = await send(s.url, ch, { ...alice, method: 'POST', qop: 'auth-int', body });
        expect(r.status, r.body).toBe(200);
        expect(r.json()).toMatchObject({ qop: 'auth-int', algorithm: alg });
        expect(authInfo(r)).toMatchObject({ qop: 'auth-int', rspauth: a.rspauth(r.body) });
        expect(authInfo(r).rspauth).not.toBe(a.rspauth(r.body + ' ')); // the body is really covered
        const same = sendHeader(ch, { ...alice, uri: PATH, method: 'POST', qop: 'auth-int', body, nc: 2 });
        const tampered = await request(s.url + PATH, { method: 'POST', headers: { authorization: same, 'content-type': 'application/json' }, body: body.replace('100', '900') });
        expectRejected(tampered, false);
      }
    });
  });

  describe('DG-16 and races: several instances, one database', () => {
    // Several instances on one database is the PostgreSQL deployment; SQLite serves one process
    // (on SQLite a server that finds no clean-stop record retires earlier nonces, see the restart tests).
    const itMultiInstance = engine === 'postgres' ? it : () => undefined;
    itMultiInstance('a nonce issued by A works on B; a (nonce, nc) used on A is refused on B', async () => {
      const ch = await challengeFor(s.url);
      expect((await send(b.url, ch, { ...alice, nc: 1 })).r.status).toBe(200);
      const { r, a } = await send(s.url, ch, { ...alice, nc: 2 });
      expect(r.status).toBe(200);
      expectRejected(await sendRaw(b.url, a.header), false);
      expectRejected(await sendRaw(s.url, a.header), false);
    });

    it('20 parallel identical requests: exactly one 200 (one instance)', async () => {
      const ch = await challengeFor(s.url);
      const header = sendHeader(ch, { ...alice, uri: PATH });
      const rs = await Promise.all(Array.from({ length: 20 }, () => sendRaw(s.url, header)));
      expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
      expect(rs.filter((r) => r.status === 401)).toHaveLength(19);
    });

    itMultiInstance('20 parallel identical requests spread over two instances: exactly one 200', async () => {
      const ch = await challengeFor(b.url);
      const header = sendHeader(ch, { ...alice, uri: PATH });
      const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => sendRaw(i % 2 ? b.url : s.url, header)));
      expect(rs.filter((r) => r.status === 200)).toHaveLength(1);
      expect(rs.filter((r) => r.status === 401)).toHaveLength(19);
    });
  });

  describe('users', () => {
    it('unknown user, disabled user and wrong password look the same', async () => {
      const ch = await challengeFor(s.url);
      const rs = [
        (await send(s.url, ch, { username: 'nobody', password: PW })).r,
        (await send(s.url, ch, { username: 'bob', password: PW })).r,
        (await send(s.url, ch, { username: 'alice', password: 'wrong password' })).r,
        (await send(s.url, ch, { username: 'nobody', password: PW, userhash: true })).r,
      ];
      for (const r of rs) expectRejected(r, false);
      const shape = (r: (typeof rs)[number]) => ({
        status: r.status,
        body: r.body,
        names: Object.keys(r.headers).filter((n) => n !== 'date').sort(),
        algorithms: parseChallenges(r.all('www-authenticate')).map((c) => c.algorithm),
      });
      for (const r of rs.slice(1)) expect(shape(r)).toEqual(shape(rs[0]!));
    });

    it('MD5 works for an older password only after a Basic login captured it', async () => {
      const carol = { username: 'carol', password: PW };
      expectRejected((await send(md5.url, await challengeFor(md5.url, 'MD5'), carol)).r, false);
      expect((await send(md5.url, await challengeFor(md5.url, 'SHA-256'), carol)).r.status).toBe(200);
      const r = await request(md5.url + '/api/basic/resources', { headers: { authorization: basic('carol', PW) } });
      expect(r.status).toBe(200);
      expect((await send(md5.url, await challengeFor(md5.url, 'MD5'), carol)).r.status).toBe(200);
      expect((await send(md5.url, await challengeFor(md5.url, 'MD5-sess'), carol)).r.status).toBe(200);
    });
  });

  describe('malformed Authorization headers → 400, never 500', () => {
    it.each([
      ['unterminated quote', 'Digest username="alice, realm="gatehouse", nonce="x'],
      ['Digest alone', 'Digest'],
      ['Digest and spaces', 'Digest   '],
      ['only commas', 'Digest , ,'],
      ['name without value', 'Digest username'],
      ['empty token value', 'Digest username=, realm="gatehouse"'],
      ['trailing backslash', 'Digest username="alice\\'],
      ['junk between params', 'Digest username="a" realm="b"'],
      ['token68 instead of params', 'Digest YWxpY2U6cHc='],
    ])('%s', async (_name, header) => {
      expectBadRequest(await sendRaw(s.url, header));
    });

    it('duplicate parameter and missing nonce', async () => {
      const ch = await challengeFor(s.url);
      const dup = sendHeader(ch, { ...alice, uri: PATH }) + `, realm="gatehouse"`;
      expectBadRequest(await sendRaw(s.url, dup));
      const dupCase = sendHeader(ch, { ...alice, uri: PATH, nc: 2 }) + `, NC=00000003`;
      expectBadRequest(await sendRaw(s.url, dupCase));
      expectBadRequest((await send(s.url, ch, { ...alice, nc: 4, override: { nonce: undefined } })).r);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: 5, override: { username: undefined } })).r);
      expectBadRequest((await send(s.url, ch, { ...alice, nc: 6, override: { cnonce: undefined } })).r);
      expect((await send(s.url, ch, { ...alice, nc: 7 })).r.status).toBe(200); // control: the nonce was fine
    });
  });
});

describeEachEngine('Digest across a restart and nextnonce', (engine) => {
  /** alice uses nc=1 of a nonce, the server stops (as `stop` says), a new one starts on the same
   * database, and `after` looks at what became of the nonce. */
  async function acrossRestart(
    stop: (server: TestServer) => Promise<void>,
    after: (server: TestServer, ch: Challenge, first: Answer) => Promise<void>,
  ): Promise<void> {
    const clock = new ManualClock();
    const db = await createTestDatabase(engine);
    try {
      let server = await startServer(db, { clock, flags: FAST });
      await server.addUser('alice', PW);
      const ch = await challengeFor(server.url);
      const { r, a } = await send(server.url, ch, { ...alice, nc: 1 });
      expect(r.status).toBe(200);
      await stop(server);
      server = await startServer(db, { clock, flags: FAST });
      try {
        await after(server, ch, a);
      } finally {
        await server.close();
      }
    } finally {
      await db.drop();
    }
  }

  it('an outstanding nonce survives a restart; a used (nonce, nc) stays used', async () => {
    await acrossRestart(
      (server) => server.close(),
      async (server, ch, first) => {
        expectRejected(await sendRaw(server.url, first.header), false);
        expect((await send(server.url, ch, { ...alice, nc: 2 })).r.status).toBe(200);
      },
    );
  });

  /** A crash: the process goes away without deregistering. */
  const crash = async (server: TestServer) => {
    await server.running.close();
    await server.g.store.close();
  };
  /** What a server registration looks like after the machine rebooted: another boot id. */
  const rebootMachine = async (url: string) => {
    const store = await Store.open(url);
    try {
      for (const entry of await store.meta.withPrefix('digest_instance:')) {
        await store.meta.put(entry.key, JSON.stringify({ ...JSON.parse(entry.value), boot: 'an-earlier-boot' }));
      }
    } finally {
      await store.close();
    }
  };

  it('after a process crash, earlier nonces keep working and used pairs stay used (their claims are in the WAL)', async () => {
    await acrossRestart(crash, async (server, ch, first) => {
      expectRejected(await sendRaw(server.url, first.header), false);
      expect((await send(server.url, ch, { ...alice, nc: 2 })).r.status).toBe(200);
    });
  });

  it('after the machine went down under a running server, earlier nonces get stale=true (SQLite); a new nonce works', async () => {
    let url = '';
    await acrossRestart(
      async (server) => {
        url = server.g.settings.databaseUrl;
        await crash(server);
        if (engine === 'sqlite') await rebootMachine(url);
      },
      async (server, ch) => {
        const { r } = await send(server.url, ch, { ...alice, nc: 2 });
        if (engine === 'sqlite') {
          expect(r.status).toBe(401);
          expect(r.all('www-authenticate').every((h) => /stale=true/.test(h))).toBe(true);
        } else {
          // PostgreSQL commits every claim durably: nonces outlive any stop.
          expect(r.status).toBe(200);
        }
        const fresh = await challengeFor(server.url);
        expect((await send(server.url, fresh, { ...alice, nc: 1 })).r.status).toBe(200);
      },
    );
  });

  it('two servers on one database share the nonce epoch; one stopping cleanly does not hide the other going down with the machine', async () => {
    const db = await createTestDatabase(engine);
    const clock = new ManualClock();
    try {
      const a = await startServer(db, { clock, flags: FAST });
      await a.addUser('alice', PW);
      const b = await startServer(db, { clock, flags: FAST });
      // DG-16: a nonce from one server is good on the other, and a pair used on one is used on both.
      const ch = await challengeFor(a.url);
      const { r, a: first } = await send(b.url, ch, { ...alice, nc: 1 });
      expect(r.status).toBe(200);
      expectRejected(await sendRaw(a.url, first.header), false);
      await a.close();
      await crash(b);
      if (engine === 'sqlite') await rebootMachine(b.g.settings.databaseUrl);
      const c = await startServer(db, { clock, flags: FAST });
      try {
        const after = (await send(c.url, ch, { ...alice, nc: 2 })).r;
        if (engine === 'sqlite') expect(after.all('www-authenticate').every((h) => /stale=true/.test(h))).toBe(true);
        else expect(after.status).toBe(200);
      } finally {
        await c.close();
      }
    } finally {
      await db.drop();
    }
  });

  it('sends nextnonce near expiry, and the nextnonce works', async () => {
    const clock = new ManualClock();
    const flags = { ...FAST, 'digest-nonce-ttl': '60', 'digest-nextnonce-window': '30', 'digest-repeat-first': 'false' };
    const s = await startOne(engine, { clock, flags });
    try {
      await s.addUser('alice', PW);
      const chs = await challenges(s.url);
      expect(chs.map((c) => c.algorithm)).toEqual(DEFAULT_ORDER); // no repeat when turned off
      const ch = chs[0]!;
      const early = (await send(s.url, ch, { ...alice, nc: 1 })).r;
      expect(early.status).toBe(200);
      expect(authInfo(early).nextnonce).toBeUndefined();
      clock.advance(40_000);
      const { r, a } = await send(s.url, ch, { ...alice, nc: 2 });
      expect(r.status).toBe(200);
      const info = authInfo(r);
      expect(info.rspauth).toBe(a.rspauth(r.body));
      expect(info.nextnonce).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(info.nextnonce).not.toBe(ch.nonce);
      // A client switches to nextnonce and keeps everything else of the protection space, opaque
      // included (RFC 7616 §3.3: opaque is returned unchanged on later requests; Authentication-Info
      // carries no new opaque).
      const { r: r2 } = await send(s.url, { ...ch, nonce: info.nextnonce! }, { ...alice, nc: 1 });
      expect(r2.status, r2.body).toBe(200);
    } finally {
      await s.close();
    }
  });
});

function sendHeader(ch: Challenge, o: Parameters<typeof answer>[1]): string {
  return answer(ch, o).header;
}
