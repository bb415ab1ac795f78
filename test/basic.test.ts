// HTTP Basic (RFC 7617) over real HTTP, on both engines: catalogue §4.1 (BA-01 … BA-13), the
// credential cache across instances, rehash on login, and what reaches the logs. The throttle is off in
// the shared server (its many deliberate failures would otherwise block alice); test/throttle.test.ts
// covers it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { basic, request } from './support/http.js';
import { createTestDatabase, startOne, startServer, type TestDatabase, type TestServer } from './support/server.js';
import {
  BASIC_PATH, FAST_ARGON2, basicBytes, captureStdout, comparable, expectBasicChallenge, getBasic, rawRequest, readableLogLine,
} from './support/basic-extra.js';

const PW = 'correct horse battery staple'; // "alice:" + PW is 34 bytes: its base64 ends in "=="
const TOKEN = basic('alice', PW).slice('Basic '.length);
const UTF8_USER = 'jürgen';
const UTF8_PW = 'pässwört';
const COLON_PW = 'pa:ss:wörd';
const NFC_PW = 'Ångström café'.normalize('NFC');

/** The cost parameters of an argon2id PHC string, e.g. $argon2id$v=19$m=19456,t=2,p=1$salt$hash. */
function argon2Params(phc: string): Record<string, number> {
  const [, id, , params] = phc.split('$');
  expect(id).toBe('argon2id');
  return Object.fromEntries(params!.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1])]));
}

describeEachEngine('HTTP Basic', (engine) => {
  let s: Awaited<ReturnType<typeof startOne>>;
  const flags = { ...FAST_ARGON2, throttle: false };
  beforeAll(async () => {
    s = await startOne(engine, { flags });
    await s.addUser('alice', PW, { email: 'alice@example.com' });
    await s.addUser(UTF8_USER, UTF8_PW);
    await s.addUser('colin', COLON_PW);
    await s.addUser('nora', NFC_PW);
    await s.addUser('dora', NFC_PW.normalize('NFD'));
  });
  afterAll(async () => s?.close());

  it('answers a right password with JSON naming the scheme and the user', async () => {
    const r = await getBasic(s.url, basic('alice', PW));
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const user = await s.g.accounts.find('alice');
    expect(r.json()).toMatchObject({ scheme: 'Basic', user: { id: user!.id, username: 'alice', email: 'alice@example.com' } });
  });

  it('challenges a request without credentials: Basic, realm, charset="UTF-8", JSON body', async () => {
    const r = await getBasic(s.url);
    expectBasicChallenge(r);
    expect(r.json()).toEqual({ error: 'unauthorized', error_description: expect.any(String) });
  });

  it('names the realm given by --basic-realm', async () => {
    const other = await startServer(s.db, { flags: { ...flags, 'basic-realm': 'Staff only' } });
    try {
      expectBasicChallenge(await getBasic(other.url), 'Staff only');
      expectBasicChallenge(await getBasic(other.url, basic('nobody', 'whatever-it-is')), 'Staff only');
    } finally {
      await other.close();
    }
  });

  // BA-01: each token below carries alice's right password, so a lenient decoder would answer 200.
  it.each([
    ['not base64 at all', 'Basic !!!'],
    ['padding removed', `Basic ${TOKEN.replace(/=+$/, '')}`],
    ['one padding character missing', `Basic ${TOKEN.slice(0, -1)}`],
    ['extra padding', `Basic ${TOKEN}=`],
    ['padding in the middle', `Basic ${TOKEN.slice(0, 8)}=${TOKEN.slice(8)}`],
    ['base64url alphabet', `Basic ${Buffer.from(`alice:${PW}>>>?`).toString('base64url')}`],
    ['a space inside the token', `Basic ${TOKEN.slice(0, 8)} ${TOKEN.slice(8)}`],
    ['empty token', 'Basic'],
    ['only padding', 'Basic ===='],
  ])('BA-01 refuses malformed base64 (%s) with 401 and the challenge', async (_name, value) => {
    expectBasicChallenge(await getBasic(s.url, value));
  });

  it('BA-02 refuses decoded credentials without a colon', async () => {
    expectBasicChallenge(await getBasic(s.url, basicBytes(Buffer.from(`alice${PW}`))));
    expectBasicChallenge(await getBasic(s.url, basicBytes(Buffer.from('alice'))));
  });

  it('BA-03 splits at the first colon: the password may contain colons', async () => {
    const r = await getBasic(s.url, basic('colin', COLON_PW));
    expect(r.status).toBe(200);
    expect(r.json().user.username).toBe('colin');
    expectBasicChallenge(await getBasic(s.url, basic('colin', 'pa')));
    expectBasicChallenge(await getBasic(s.url, basic('colin', 'ss:wörd')));
  });

  it('BA-04 accepts UTF-8 user and password; the Latin-1 bytes of the same password do not verify', async () => {
    const ok = await getBasic(s.url, basicBytes(Buffer.from(`${UTF8_USER}:${UTF8_PW}`, 'utf8')));
    expect(ok.status).toBe(200);
    expect(ok.json().user.username).toBe(UTF8_USER);
    expectBasicChallenge(await getBasic(s.url, basicBytes(Buffer.from(`${UTF8_USER}:${UTF8_PW}`, 'latin1'))));
    const mixed = Buffer.concat([Buffer.from(`${UTF8_USER}:`, 'utf8'), Buffer.from(UTF8_PW, 'latin1')]);
    expectBasicChallenge(await getBasic(s.url, basicBytes(mixed)));
  });

  it('BA-05 treats NFC and NFD forms of a password (and username) the same', async () => {
    expect(NFC_PW).not.toBe(NFC_PW.normalize('NFD'));
    for (const user of ['nora', 'dora']) {
      for (const form of ['NFC', 'NFD'] as const) {
        const r = await getBasic(s.url, basic(user, NFC_PW.normalize(form)));
        expect(r.status, `${user} with ${form}`).toBe(200);
      }
    }
    expect((await getBasic(s.url, basic(UTF8_USER.normalize('NFD'), UTF8_PW.normalize('NFD')))).status).toBe(200);
  });

  it.each([
    ['NUL after the password', 'alice', `${PW}\u0000`],
    ['CR inside the password', 'alice', `correct horse\rbattery staple`],
    ['CRLF after the password', 'alice', `${PW}\r\n`],
    ['TAB inside the password', 'alice', `correct horse\tbattery staple`],
    ['DEL after the password', 'alice', `${PW}\u007f`],
    ['NUL after the user', 'alice\u0000', PW],
    ['CR inside the user', 'ali\rce', PW],
  ])('BA-06 refuses control characters (%s)', async (_name, user, password) => {
    expectBasicChallenge(await getBasic(s.url, basicBytes(Buffer.from(`${user}:${password}`))));
  });

  it('BA-07 reads the scheme name without regard to case', async () => {
    for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
      const r = await getBasic(s.url, `${scheme} ${TOKEN}`);
      expect(r.status, scheme).toBe(200);
    }
  });

  it.each([
    ['Bearer', `Bearer ${TOKEN}`],
    ['Digest', `Digest username="alice", response="x"`],
    ['a scheme that only starts like Basic', `Basicx ${TOKEN}`],
    ['a token without any scheme', TOKEN],
  ])('BA-07 answers another scheme (%s) with 401 and the Basic challenge', async (_name, value) => {
    expectBasicChallenge(await getBasic(s.url, value));
  });

  it('BA-08 answers an Authorization value over 4096 characters with 400, and 4096 exactly is read', async () => {
    const token = Buffer.from(`alice:${'x'.repeat(3060)}`).toString('base64'); // 4088 characters
    const at = `Basic   ${token}`;
    expect(at).toHaveLength(4096);
    expectBasicChallenge(await getBasic(s.url, at));
    const over = await getBasic(s.url, `Basic    ${token}`);
    expect(over.status).toBe(400);
    expect(over.json()).toMatchObject({ error: 'invalid_request' });
    const bearer = await getBasic(s.url, `Bearer ${'a'.repeat(5000)}`);
    expect(bearer.status).toBe(400);
  });

  it('BA-08 answers a 64 KB Authorization header with 431, not 500', async () => {
    const huge = `Basic ${Buffer.from(`alice:${'y'.repeat(48 * 1024)}`).toString('base64')}`;
    expect(huge.length).toBeGreaterThan(64 * 1024);
    const r = await rawRequest(`${s.url}${BASIC_PATH}`, [`Authorization: ${huge}`]);
    expect(r.status).toBe(431);
    expect((await getBasic(s.url, basic('alice', PW))).status).toBe(200);
  });

  it('BA-09 answers an unknown user exactly as a wrong password (status, headers but Date, body)', async () => {
    const wrong = comparable(await getBasic(s.url, basic('alice', 'not the password')));
    const unknown = comparable(await getBasic(s.url, basic('nobody-here', 'not the password')));
    expect(wrong.status).toBe(401);
    expect(unknown).toEqual(wrong);
  });

  it('BA-12 answers two Authorization fields with 400, even when both are right', async () => {
    const same = await request(`${s.url}${BASIC_PATH}`, { headers: { authorization: [basic('alice', PW), basic('alice', PW)] } });
    expect(same.status).toBe(400);
    expect(same.json()).toMatchObject({ error: 'invalid_request' });
    const mixed = await rawRequest(`${s.url}${BASIC_PATH}`, [`Authorization: ${basic('nobody', 'x')}`, `authorization: ${basic('alice', PW)}`]);
    expect(mixed.status).toBe(400);
    const folded = await rawRequest(`${s.url}${BASIC_PATH}`, ['Authorization: Basic', ` ${TOKEN}`]);
    expect(folded.status).toBe(400);
  });

  it.each([
    ['an empty user', `:${PW}`],
    ['an empty password', 'alice:'],
    ['both empty', ':'],
  ])('BA-13 refuses %s with 401', async (_name, decoded) => {
    expectBasicChallenge(await getBasic(s.url, basicBytes(Buffer.from(decoded))));
  });

  it('refuses a disabled user exactly as a wrong password, and a removed user', async () => {
    await s.addUser('dan', PW);
    expect((await getBasic(s.url, basic('dan', PW))).status).toBe(200);
    await s.g.accounts.setDisabled('dan', true);
    const disabled = comparable(await getBasic(s.url, basic('dan', PW)));
    const wrong = comparable(await getBasic(s.url, basic('dan', 'not the password')));
    expect(disabled.status).toBe(401);
    expect(disabled).toEqual(wrong);
    await s.g.accounts.setDisabled('dan', false);
    expect((await getBasic(s.url, basic('dan', PW))).status).toBe(200);
    await s.g.accounts.remove('dan');
    expectBasicChallenge(await getBasic(s.url, basic('dan', PW)));
  });

  it('never echoes the password or the credentials in a response', async () => {
    const secret = 'Sekrit-Passphrase-4711';
    const values = [basic('alice', secret), `Basic ${Buffer.from(`alice${secret}`).toString('base64')}`, `Bearer ${secret}`, `${basic('alice', secret)}!`];
    for (const v of values) {
      const r = await getBasic(s.url, v);
      expect(r.status).toBe(401);
      const all = r.body + r.rawHeaders.join('\n');
      expect(all).not.toContain(secret);
      expect(all).not.toContain(v.split(' ')[1]);
    }
  });

  describe('with a second instance on the same database', () => {
    // SQLite: another connection's change is seen by the next request (the change log, read at most
    // every millisecond).
    // PostgreSQL: another instance's commit is seen when its NOTIFY arrives, a moment later.
    const eventually = (check: () => Promise<void>) => (engine === 'postgres' ? vi.waitFor(check, { timeout: 2000, interval: 10 }) : check());
    let other: TestServer;
    beforeAll(async () => {
      other = await startServer(s.db, { flags });
      await s.addUser('carl', 'first password 1');
    });
    afterAll(async () => other?.close());

    it('a password change there makes the cached old password fail here at once', async () => {
      expect((await getBasic(s.url, basic('carl', 'first password 1'))).status).toBe(200);
      expect((await getBasic(s.url, basic('carl', 'first password 1'))).status).toBe(200);
      await other.g.accounts.setPassword('carl', 'second password 2');
      await eventually(async () => expectBasicChallenge(await getBasic(s.url, basic('carl', 'first password 1'))));
      expect((await getBasic(s.url, basic('carl', 'second password 2'))).status).toBe(200);
    });

    it('disabling there refuses a cached password here at once; enabling again accepts it', async () => {
      const auth = basic('carl', 'second password 2');
      expect((await getBasic(s.url, auth)).status).toBe(200);
      await other.g.accounts.setDisabled('carl', true);
      await eventually(async () => expectBasicChallenge(await getBasic(s.url, auth)));
      await other.g.accounts.setDisabled('carl', false);
      await eventually(async () => expect((await getBasic(s.url, auth)).status).toBe(200));
    });
  });

  it('rehashes a password made with older argon2 parameters at the next login', async () => {
    const old = await startServer(s.db, { flags: { 'argon2-time': '1', 'argon2-memory': '1024' } });
    await old.addUser('rhea', 'rehash me please');
    await old.close();
    const before = (await s.g.store.users.findByKey('rhea'))!.password_hash!;
    expect(argon2Params(before)).toEqual({ m: 1024, t: 1, p: 1 });
    const fresh = await startServer(s.db, { flags: { 'credential-cache-ttl': '0' } });
    try {
      expect((await getBasic(fresh.url, basic('rhea', 'rehash me please'))).status).toBe(200);
      const after = (await fresh.g.store.users.findByKey('rhea'))!.password_hash!;
      expect(argon2Params(after)).toEqual({ m: 19456, t: 2, p: 1 });
      expect((await getBasic(fresh.url, basic('rhea', 'rehash me please'))).status).toBe(200);
      expectBasicChallenge(await getBasic(fresh.url, basic('rhea', 'rehash me pleasE')));
    } finally {
      await fresh.close();
    }
  });
});

describeEachEngine('HTTP Basic transport (BA-10)', (engine) => {
  // One database; each test starts an instance with its own transport settings.
  let db: TestDatabase;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    const first = await startServer(db, { flags: FAST_ARGON2 });
    servers.push(first);
    await first.addUser('alice', PW);
  });
  afterAll(async () => {
    for (const srv of servers) await srv.close();
    await db?.drop();
  });
  const start = async (flags: Record<string, string | boolean>) => {
    const srv = await startServer(db, { flags: { ...FAST_ARGON2, ...flags } });
    servers.push(srv);
    return srv;
  };
  const proxied = { 'x-forwarded-for': '203.0.113.9' };

  it('refuses Basic from a remote client over plain HTTP with 403, before checking the password', async () => {
    const srv = await start({ 'trust-proxy': true });
    for (const auth of [basic('alice', PW), basic('alice', 'wrong password'), 'Basic !!!']) {
      const r = await getBasic(srv.url, auth, proxied);
      expect(r.status).toBe(403);
      expect(r.json()).toMatchObject({ error: 'insecure_transport' });
      expect(r.all('www-authenticate')).toEqual([]);
    }
    const viaHttps = await getBasic(srv.url, basic('alice', PW), { ...proxied, 'x-forwarded-proto': 'https' });
    expect(viaHttps.status).toBe(200);
    expect((await getBasic(srv.url, basic('alice', PW))).status).toBe(200);
  });

  it('accepts it when --allow-insecure-http is set', async () => {
    const srv = await start({ 'trust-proxy': true, 'allow-insecure-http': true });
    expect((await getBasic(srv.url, basic('alice', PW), proxied)).status).toBe(200);
  });

  it('ignores X-Forwarded-* without --trust-proxy (a loopback client stays loopback)', async () => {
    const srv = await start({});
    expect((await getBasic(srv.url, basic('alice', PW), proxied)).status).toBe(200);
  });
});

describeEachEngine('HTTP Basic logging', (engine) => {
  const secret = 'Unmistakable-Secret-93';
  const token = basic('alice', secret).slice('Basic '.length);
  // Each leaking line, named by its message (the whole line would be unreadable in a failure).
  const leaks = (lines: string[]) =>
    lines.map(readableLogLine).filter((l) => l.includes(secret) || l.includes(token)).map((l) => `${/"msg":"([^"]*)"/.exec(l)?.[1] ?? l.slice(0, 80)} (${l.includes(token) ? 'Authorization value' : 'password'})`);

  it('at log level trace, handled requests log neither the password nor the Authorization value', async () => {
    let srv: Awaited<ReturnType<typeof startOne>> | undefined;
    const lines = await captureStdout(async () => {
      srv = await startOne(engine, { flags: { ...FAST_ARGON2, 'log-level': 'trace' } });
      try {
        await srv.addUser('alice', secret);
        expect((await getBasic(srv.url, basic('alice', secret))).status).toBe(200);
        expect((await getBasic(srv.url, basic('alice', `${secret}x`))).status).toBe(401);
        expect((await getBasic(srv.url, `Basic ${token}!`)).status).toBe(401);
        expect((await getBasic(srv.url, `Basic ${token}${' '.repeat(4096)}x`)).status).toBe(400);
        expect((await request(`${srv.url}${BASIC_PATH}`, { headers: { authorization: [basic('alice', secret), 'x'] } })).status).toBe(400);
      } finally {
        await srv?.close();
      }
    });
    expect(lines.filter((l) => l.includes('"msg":"request"')).length).toBe(5); // the capture works
    expect(leaks(lines)).toEqual([]);
  });

  it('at log level trace, requests Node refuses while parsing log neither the password nor the Authorization value', async () => {
    let srv: Awaited<ReturnType<typeof startOne>> | undefined;
    const lines = await captureStdout(async () => {
      srv = await startOne(engine, { flags: { ...FAST_ARGON2, 'log-level': 'trace' } });
      try {
        const url = `${srv.url}${BASIC_PATH}`;
        expect((await rawRequest(url, [`Authorization: Basic ${token}`, `X-Big: ${'a'.repeat(70 * 1024)}`])).status).toBe(431);
        expect((await rawRequest(url, ['Authorization: Basic', ` ${token}`])).status).toBe(400);
      } finally {
        await srv?.close();
      }
    });
    expect(lines.some((l) => l.includes('client'))).toBe(true); // the capture works
    expect(leaks(lines)).toEqual([]);
  });
});

describeEachEngine('deployments side by side', (engine) => {
  // `?schema=` promises each deployment its own tables in one PostgreSQL database. A second deployment
  // must start while the first one runs (the harness relies on this too: test files run in parallel).
  it('starts a deployment on a fresh database while another deployment runs', async () => {
    const first = await startOne(engine, { flags: FAST_ARGON2 });
    try {
      const second = await startOne(engine, { flags: FAST_ARGON2 });
      try {
        await second.addUser('alice', PW);
        expect((await getBasic(second.url, basic('alice', PW))).status).toBe(200);
        expectBasicChallenge(await getBasic(first.url, basic('alice', PW)));
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});
