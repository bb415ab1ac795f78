// The `gatehouse` command as an operator runs it: a real process (bin/gatehouse.js over dist/), settings
// from the environment, exit codes 0 (done), 1 (refused or failed) and 2 (usage).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/config/settings.js';
import { Store } from '../src/store/store.js';
import { describeEachEngine } from './support/engines.js';
import { basic, request } from './support/http.js';
import { createTestDatabase, startServer, type TestDatabase, type TestServer } from './support/server.js';

const BIN = fileURLToPath(new URL('../bin/gatehouse.js', import.meta.url));
const PW = 'correct horse battery staple';
const NEW_PW = 'tr0ub4dor and then some';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

function start(args: string[], env: Record<string, string>, cwd?: string): ChildProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_')));
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...clean, ...env }, cwd: cwd ?? process.cwd(), stdio: 'pipe' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function gatehouse(args: string[], env: Record<string, string>, options: { input?: string; cwd?: string } = {}): Promise<Run> {
  const child = start(args, env, options.cwd);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  child.stdin!.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function envFor(db: TestDatabase): Record<string, string> {
  return { GATEHOUSE_DATABASE_URL: db.url, GATEHOUSE_DATA_DIR: db.dataDir, GATEHOUSE_SECRET_KEY: db.secretKey, GATEHOUSE_LOG_LEVEL: 'silent' };
}

afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
});

describeEachEngine('cli user add and list', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(async () => db.drop());

  it('adds a user and lists it as JSON without any hash', async () => {
    const add = await gatehouse(['user', 'add', 'alice', '--password', PW, '--email', 'alice@example.com', '--name', 'Alice A'], envFor(db));
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^added user alice \([0-9a-f-]{36}\)\n$/);
    const list = await gatehouse(['user', 'list', '--json'], envFor(db));
    expect(list.code).toBe(0);
    const users = JSON.parse(list.stdout) as Record<string, unknown>[];
    expect(users).toHaveLength(1);
    expect(users[0]).toMatchObject({ username: 'alice', email: 'alice@example.com', displayName: 'Alice A', disabled: false });
    expect(Object.keys(users[0]!).sort()).toEqual(['createdAt', 'disabled', 'displayName', 'email', 'id', 'updatedAt', 'username']);
    expect(list.stdout).not.toMatch(/argon2|password/i);
    expect(list.stdout).not.toContain(PW);
  });
});

describe('cli [sqlite]', { timeout: 90_000 }, () => {
  let db: TestDatabase;
  let server: TestServer | undefined;
  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await db.drop();
  });
  const run = (args: string[], input?: string) => gatehouse(args, envFor(db), input === undefined ? {} : { input });
  const login = (user: string, pw: string) => request(`${server!.url}/api/basic/resources`, { headers: { authorization: basic(user, pw) } });

  it('lists users as a table', async () => {
    expect((await run(['user', 'list'])).stdout).toBe('no users\n');
    expect((await run(['user', 'add', 'alice', '--password', PW, '--email', 'alice@example.com'])).code).toBe(0);
    expect((await run(['user', 'add', 'bob', '--password', PW])).code).toBe(0);
    const list = await run(['user', 'list']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USERNAME\s+EMAIL\s+NAME\s+STATUS\s+CREATED$/);
    expect(lines[1]).toMatch(/^alice\s+alice@example\.com\s+active\s+\d{4}-\d\d-\d\dT/);
    expect(lines[2]).toMatch(/^bob\s+active\s+\d{4}-/);
    expect(lines).toHaveLength(3);
    expect(list.stdout).not.toContain('$argon2');
  });

  it('--password-stdin reads the password and strips one trailing newline', async () => {
    const add = await run(['user', 'add', 'alice', '--password-stdin'], `${PW}\n`);
    expect(add.code).toBe(0);
    expect((await run(['user', 'add', 'bob', '--password-stdin'], `${NEW_PW}\r\n`)).code).toBe(0);
    server = await startServer(db);
    expect((await login('alice', PW)).status).toBe(200);
    expect((await login('bob', NEW_PW)).status).toBe(200);
    expect((await login('alice', `${PW}\n`)).status).toBe(401);
  });

  it('a yes/no flag written --flag=true / --flag=false means what it says; another value is a usage error', async () => {
    const add = await run(['user', 'add', 'alice', '--password-stdin=true'], `${PW}\n`);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).not.toMatch(/without a password/);
    expect(JSON.parse((await run(['user', 'list', '--json=yes'])).stdout)).toMatchObject([{ username: 'alice' }]);
    expect((await run(['user', 'list', '--json=false'])).stdout).toMatch(/^USERNAME/);
    const bad = await run(['user', 'list', '--json=maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--json/);
    server = await startServer(db);
    expect((await login('alice', PW)).status).toBe(200);
  });

  it('refuses a duplicate username, also in another case', async () => {
    expect((await run(['user', 'add', 'alice', '--password', PW])).code).toBe(0);
    for (const name of ['alice', 'ALICE', 'Alice']) {
      const r = await run(['user', 'add', name, '--password', NEW_PW]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/already exists/);
      expect(r.stderr).not.toMatch(/unexpected|\n\s+at /);
    }
    expect(JSON.parse((await run(['user', 'list', '--json'])).stdout)).toHaveLength(1);
  });

  it('refuses weak passwords with a reason and creates no user', async () => {
    const cases: [string, string, RegExp][] = [
      ['alice', 'short', /at least 8 characters/],
      ['alice', 'password', /most common/],
      ['alice', 'PASSWORD', /most common/],
      ['longusername', 'LongUserName', /cannot be the username/],
    ];
    for (const [name, pw, reason] of cases) {
      const r = await run(['user', 'add', name, '--password', pw]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(reason);
    }
    expect(JSON.parse((await run(['user', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('passwd, disable, enable, unlock and remove act on a running server', async () => {
    expect((await run(['user', 'add', 'alice', '--password', PW])).code).toBe(0);
    server = await startServer(db);
    expect((await login('alice', PW)).status).toBe(200);

    const passwd = await run(['user', 'passwd', 'alice', '--password', NEW_PW]);
    expect([passwd.code, passwd.stdout]).toEqual([0, 'password of alice changed\n']);
    expect((await login('alice', NEW_PW)).status).toBe(200);
    expect((await login('alice', PW)).status).toBe(401);
    expect((await run(['user', 'passwd', 'alice', '--password', 'password'])).code).toBe(1);

    expect((await run(['user', 'disable', 'ALICE'])).code).toBe(0);
    expect((await login('alice', NEW_PW)).status).toBe(401);
    expect(JSON.parse((await run(['user', 'list', '--json'])).stdout)[0].disabled).toBe(true);
    expect((await run(['user', 'list'])).stdout).toMatch(/^alice\s+disabled/m);
    expect((await run(['user', 'enable', 'alice'])).code).toBe(0);
    expect((await login('alice', NEW_PW)).status).toBe(200);

    // A failure leaves a counter; unlock clears it.
    expect((await login('alice', 'wrong password!')).status).toBe(401);
    const store = await Store.open(db.url);
    try {
      expect((await store.loginThrottle.read(['account:alice']))[0]?.failures).toBe(1);
      const unlock = await run(['user', 'unlock', 'alice']);
      expect([unlock.code, unlock.stdout]).toEqual([0, 'user alice unlocked\n']);
      expect(await store.loginThrottle.read(['account:alice'])).toEqual([]);
    } finally {
      await store.close();
    }

    expect((await run(['user', 'remove', 'alice'])).code).toBe(0);
    expect((await login('alice', NEW_PW)).status).toBe(401);
    expect(JSON.parse((await run(['user', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('answers an unknown user with exit 1 and a clear message', async () => {
    for (const args of [['passwd', 'ghost', '--password', NEW_PW], ['disable', 'ghost'], ['enable', 'ghost'], ['remove', 'ghost'], ['unlock', 'ghost']]) {
      const r = await run(['user', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toBe('gatehouse: no user named "ghost"\n');
    }
  });

  it('exits 2 on usage errors', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['user', 'list', '--frobnicate'], /unknown option --frobnicate/],
      [['serve', '--no-such-flag=1'], /unknown option --no-such-flag/],
      [['user'], /user needs an action/],
      [['user', 'add'], /needs a username/],
      [['user', 'explode', 'alice'], /unknown user action "explode"/],
      [['user', 'passwd', 'alice'], /--password/],
      [['user', 'add', 'alice', '--password', PW, '--password-stdin'], /not both/],
      [['user', 'add', 'alice', '--password'], /--password needs a value/],
      [['serve', 'now'], /serve takes no arguments/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const bare = await run([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toContain('Usage: gatehouse');
  });

  it('help lists every setting, its flag and its environment variable', async () => {
    const r = await run(['help']);
    expect(r.code).toBe(0);
    for (const s of SETTINGS) {
      expect(r.stdout).toContain(s.env);
      expect(r.stdout).toContain(`--${s.flag}`);
    }
    expect(r.stdout).not.toContain(db.secretKey);
  });

  it('migrate applies the migrations once', async () => {
    const first = await run(['migrate']);
    expect([first.code, first.stdout]).toEqual([0, 'applied: 001-initial, 002-tokens-and-sessions, 003-oauth, 004-oidc, 005-digest-claim-log, 006-change-log\n']);
    const again = await run(['migrate']);
    expect([again.code, again.stdout]).toEqual([0, 'the database is up to date\n']);
  });

  it('refuses an invalid setting with exit 1, naming it', async () => {
    const port = await gatehouse(['user', 'list'], { ...envFor(db), GATEHOUSE_PORT: 'abc' });
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/GATEHOUSE_PORT.*"abc"/);
    const alg = await run(['user', 'list', '--digest-algorithms=SHA-1']);
    expect(alg.code).toBe(1);
    expect(alg.stderr).toMatch(/--digest-algorithms.*"SHA-1"/);
    const bool = await gatehouse(['migrate'], { ...envFor(db), GATEHOUSE_THROTTLE: 'sometimes' });
    expect(bool.code).toBe(1);
    expect(bool.stderr).toMatch(/GATEHOUSE_THROTTLE/);
    expect(existsSync(join(db.dataDir, 'gatehouse.db'))).toBe(false);
  });

  it('creates the secret key file 0600 in the data dir on first use and keeps using it', async () => {
    const env = envFor(db);
    delete env.GATEHOUSE_SECRET_KEY;
    const keyFile = join(db.dataDir, 'secret.key');
    expect(existsSync(keyFile)).toBe(false);
    expect((await gatehouse(['user', 'add', 'alice', '--password', PW], env)).code).toBe(0);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8');
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect((await gatehouse(['user', 'list', '--json'], env)).code).toBe(0);
    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    const other = await gatehouse(['user', 'list'], { ...env, GATEHOUSE_SECRET_KEY: 'ab'.repeat(32) });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/secret key does not match/);
  });

  it('puts the default SQLite file in GATEHOUSE_DATA_DIR, as documented', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cwd-'));
    try {
      const env = { GATEHOUSE_DATA_DIR: db.dataDir, GATEHOUSE_SECRET_KEY: db.secretKey };
      expect((await gatehouse(['user', 'add', 'alice', '--password', PW], env, { cwd })).code).toBe(0);
      // README/help: GATEHOUSE_DATA_DIR is the "directory for the generated secret key file (and the SQLite file by default)".
      expect(existsSync(join(cwd, 'data', 'gatehouse.db'))).toBe(false);
      expect(existsSync(join(db.dataDir, 'gatehouse.db'))).toBe(true);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('serve listens, answers and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = start(['serve', '--port', String(port)], envFor(db));
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        if (stdout.includes('Try it:')) resolve();
      });
      void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
    });
    expect(stdout).toContain(`Gatehouse is listening on http://127.0.0.1:${port}`);
    expect(stdout).not.toContain(db.secretKey);
    const r = await request(`http://127.0.0.1:${port}/api/public`);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ message: 'This resource is public.' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain('Gatehouse is stopping.');
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
