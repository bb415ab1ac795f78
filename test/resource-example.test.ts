// examples/resource-server against a running Gatehouse: two processes, as an operator runs them.
// Gatehouse is `node bin/gatehouse.js serve` on a free port with a temporary SQLite database; the
// example is `node examples/resource-server/server.mjs`, which imports `gatehouse/resource` as an
// application does. The issuer URL is a counting proxy in front of Gatehouse (test/support/
// http-proxy.ts), so the test sees when the example fetches the JWKS. Tokens come from every grant
// (clients registered for each with `gatehouse client add`); the refusals are checked with their
// exact challenges; and a key rotation (`gatehouse keys rotate --now`) happens while requests flow.
// Catalogue §4.8: RS-01, RS-02, RS-03, RS-05, RS-08.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, Browser, redirectParams } from './support/authorize.js';
import { CountingProxy } from './support/http-proxy.js';
import { request, type RawResponse } from './support/http.js';
import { decodeSegment, PW } from './support/jwt-login.js';
import { clientBasic, newVerifier, post, s256 } from './support/oauth.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'gatehouse.js');
const EXAMPLE = join(ROOT, 'examples', 'resource-server', 'server.mjs');
const AUD = 'https://notes.example';
const CB = 'https://client.example/cb';
const JWKS = '/.well-known/jwks.json';

const children = new Set<ChildProcess>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnNode(args: string[], env: Record<string, string>): ChildProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_') && !k.startsWith('RS_')));
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...clean, ...env }, stdio: 'pipe' });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Run a command to completion; its stdout, or an error with its output. */
function run(args: string[], env: Record<string, string>, input = ''): Promise<string> {
  const child = spawnNode(args, env);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  child.stdin!.end(input);
  return new Promise((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} → ${code}: ${err || out}`)))));
}

/** Start a server process; resolves with the URL it prints. */
function serve(args: string[], env: Record<string, string>, pattern: RegExp): Promise<{ child: ChildProcess; url: string; log: () => string }> {
  const child = spawnNode(args, env);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${log}`)), 20_000);
    const on = (d: Buffer) => {
      log += d;
      const m = pattern.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, log: () => log });
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${log}`)));
  });
}

interface Client {
  id: string;
  secret: string;
}

describe('examples/resource-server against a running Gatehouse (two processes)', () => {
  const proxy = new CountingProxy();
  let dir: string;
  let env: Record<string, string>;
  let iss: string;
  let rs: string;
  let rsLog: () => string;
  const clients: Record<string, Client> = {};
  let shortLived: string;

  const gatehouse = (...args: string[]) => run([BIN, ...args], env);
  async function addClient(id: string, ...flags: string[]): Promise<Client> {
    const out = JSON.parse(await gatehouse('client', 'add', id, ...flags, '--json'));
    return (clients[id] = { id, secret: out.client_secret });
  }
  async function token(c: Client, form: Record<string, string>): Promise<Record<string, string>> {
    const r = await post(`${iss}/oauth/token`, form, { authorization: clientBasic(c.id, c.secret) });
    expect(r.status, r.body).toBe(200);
    return r.json();
  }
  const cc = async (id: string, scope: string) => (await token(clients[id]!, { grant_type: 'client_credentials', scope })).access_token!;
  const getNotes = (tok?: string) => request(`${rs}/notes`, { headers: tok === undefined ? {} : { authorization: `Bearer ${tok}` } });
  const postNote = (tok: string) => request(`${rs}/notes`, { method: 'POST', headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/json' }, body: '{"text":"hello"}' });
  const expectChallenge = (r: RawResponse, status: number, challenge: string) => {
    expect(r.status, r.body).toBe(status);
    expect(r.all('www-authenticate')).toEqual([challenge]);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-rs-example-'));
    iss = await proxy.start();
    env = {
      GATEHOUSE_DATA_DIR: dir,
      GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`,
      GATEHOUSE_ISSUER: iss,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_SCOPES: `notes:read@${AUD},notes:write@${AUD},api`,
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_ARGON2_MEMORY: '1024',
      GATEHOUSE_ARGON2_TIME: '1',
    };
    await gatehouse('migrate');
    await run([BIN, 'user', 'add', 'alice', '--password-stdin'], env, `${PW}\n`);
    await addClient('web', '--grant', 'authorization_code,refresh_token', '--redirect-uri', CB);
    await addClient('spa', '--grant', 'implicit', '--redirect-uri', CB);
    await addClient('svc', '--grant', 'client_credentials');
    await addClient('svc-opaque', '--grant', 'client_credentials', '--token-format', 'opaque');
    await addClient('svc-short', '--grant', 'client_credentials', '--token-ttl', '10');
    await addClient('legacy', '--grant', 'password,refresh_token');
    await addClient('notes-api', '--grant', 'client_credentials');
    const as = await serve([BIN, 'serve'], env, /Gatehouse is listening on (\S+)/);
    proxy.target = as.url;
    const example = await serve([EXAMPLE], {
      RS_ISSUER: iss,
      RS_AUDIENCE: AUD,
      RS_PORT: '0',
      RS_INTROSPECTION_CLIENT_ID: 'notes-api',
      RS_INTROSPECTION_CLIENT_SECRET: clients['notes-api']!.secret,
      RS_INTROSPECTION_CACHE_SECONDS: '0',
      RS_LEEWAY_SECONDS: '0',
      RS_JWKS_COOLDOWN_SECONDS: '1',
    }, /resource server listening on (\S+)/);
    rs = example.url;
    rsLog = example.log;
    // RS-08: a token that lives 10 s, checked at the end.
    shortLived = await cc('svc-short', 'notes:read');
  }, 60_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await sleep(200);
    for (const c of children) c.kill('SIGKILL');
    await proxy.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the example serves its public route without a token', async () => {
    const r = await request(`${rs}/public/notes`);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ owner: null, notes: [{ id: 0, text: 'Welcome to the notes API.' }] });
  });

  it('RS-01: no token → 401 with a bare challenge', async () => {
    const r = await getNotes();
    expectChallenge(r, 401, 'Bearer realm="notes"');
  });

  describe('tokens from every grant are accepted where their scope allows (RS-05: the owner is sub)', () => {
    let browser: Browser;

    it('authorization_code with PKCE, through the login and consent pages; then refresh_token', async () => {
      browser = new Browser(iss);
      const verifier = newVerifier();
      const { final, pages } = await browser.walk(
        authorizeUrl(iss, { client_id: 'web', redirect_uri: CB, response_type: 'code', scope: 'notes:read notes:write', state: 's1', code_challenge: s256(verifier), code_challenge_method: 'S256' }),
        'alice',
      );
      expect(pages).toEqual(['login', 'consent', 'redirect']);
      const code = redirectParams(final.headers.location!).get('code')!;
      const t = await token(clients.web!, { grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier });
      const sub = decodeSegment(t.access_token!, 1).sub;
      const read = await getNotes(t.access_token);
      expect(read.status, read.body).toBe(200);
      expect(read.json().owner).toBe(sub);
      expect((await postNote(t.access_token!)).status).toBe(201);
      expect((await getNotes(t.access_token)).json().notes).toEqual([{ id: 1, text: 'hello' }]);

      const refreshed = await token(clients.web!, { grant_type: 'refresh_token', refresh_token: t.refresh_token! });
      expect(refreshed.access_token).not.toBe(t.access_token);
      const again = await getNotes(refreshed.access_token);
      expect(again.status).toBe(200);
      expect(again.json().owner).toBe(sub);
      // Narrowed on refresh to notes:read: reading yes, writing no.
      const narrow = await token(clients.web!, { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, scope: 'notes:read' });
      expect((await getNotes(narrow.access_token)).status).toBe(200);
      expect((await postNote(narrow.access_token!)).status).toBe(403);
    });

    it('implicit (legacy): the token from the fragment', async () => {
      const { final, pages } = await browser.walk(authorizeUrl(iss, { client_id: 'spa', redirect_uri: CB, response_type: 'token', scope: 'notes:read', state: 's2' }), 'alice');
      expect(pages.at(-1)).toBe('redirect');
      const frag = redirectParams(final.headers.location!, 'fragment');
      const r = await getNotes(frag.get('access_token')!);
      expect(r.status, r.body).toBe(200);
      expect((await postNote(frag.get('access_token')!)).status).toBe(403);
    });

    it('client_credentials: JWT and opaque (introspected)', async () => {
      const jwt = await cc('svc', 'notes:read notes:write');
      const r = await getNotes(jwt);
      expect(r.status).toBe(200);
      expect(r.json().owner).toBe('svc');
      expect((await postNote(jwt)).status).toBe(201);
      const opaque = await cc('svc-opaque', 'notes:read');
      expect(opaque.split('.')).toHaveLength(1);
      const o = await getNotes(opaque);
      expect(o.status, o.body).toBe(200);
      expect(o.json().owner).toBe('svc-opaque');
    });

    it('password (legacy), then refresh_token', async () => {
      const t = await token(clients.legacy!, { grant_type: 'password', username: 'alice', password: PW, scope: 'notes:read' });
      expect((await getNotes(t.access_token)).status).toBe(200);
      expect((await postNote(t.access_token!)).status).toBe(403);
      const refreshed = await token(clients.legacy!, { grant_type: 'refresh_token', refresh_token: t.refresh_token! });
      expect((await getNotes(refreshed.access_token)).status).toBe(200);
    });
  });

  describe('refusals, with the RFC 6750 status and challenge', () => {
    it('RS-03: a token for another audience → 401 invalid_token', async () => {
      expectChallenge(await getNotes(await cc('svc', 'api')), 401, 'Bearer realm="notes", error="invalid_token", error_description="The access token is meant for another audience."');
    });

    it('RS-02: a missing scope → 403 insufficient_scope with scope=', async () => {
      const r = await postNote(await cc('svc', 'notes:read'));
      expectChallenge(r, 403, 'Bearer realm="notes", error="insufficient_scope", error_description="This resource needs scope notes:write.", scope="notes:write"');
    });

    it('RS-02: a revoked opaque token → 401 invalid_token', async () => {
      const opaque = await cc('svc-opaque', 'notes:read');
      expect((await getNotes(opaque)).status).toBe(200);
      const c = clients['svc-opaque']!;
      expect((await post(`${iss}/oauth/revoke`, { token: opaque }, { authorization: clientBasic(c.id, c.secret) })).status).toBe(200);
      expectChallenge(await getNotes(opaque), 401, 'Bearer realm="notes", error="invalid_token", error_description="The access token is not active (expired, revoked or unknown)."');
    });
  });

  it('a key rotation (gatehouse keys rotate --now) mid-run: zero failed requests; the new key triggers a JWKS refetch', async () => {
    const failures: string[] = [];
    const seenKids = new Set<string>();
    let ok = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const tok = await cc('svc', 'notes:read');
        const kid = decodeSegment(tok, 0).kid as string;
        for (let i = 0; i < 3; i++) {
          const r = await getNotes(tok);
          if (r.status === 200) {
            ok++;
            seenKids.add(kid);
          } else failures.push(`${r.status} ${r.headers['www-authenticate'] ?? ''} ${r.body}`);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    try {
      await sleep(300);
      const jwksBefore = proxy.count(JWKS);
      // Twice: the first promotes the next key the example has already cached; the second promotes a
      // key published after the example's last fetch, so the example meets an unknown kid.
      await gatehouse('keys', 'rotate', '--now');
      await gatehouse('keys', 'rotate', '--now');
      const keys = JSON.parse(await gatehouse('keys', 'list', '--json')) as Array<{ kid: string; state: string }>;
      const active = keys.find((k) => k.state === 'active')!.kid;
      for (let i = 0; i < 100 && !seenKids.has(active); i++) await sleep(100);
      await sleep(300);
      expect(seenKids.has(active), `no request was served with a token of the new key ${active}`).toBe(true);
      expect(proxy.count(JWKS)).toBeGreaterThan(jwksBefore);
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(seenKids.size).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('RS-08: an expired token → 401 invalid_token (a 10-second token, checked after it expired)', async () => {
    const exp = decodeSegment(shortLived, 1).exp as number;
    await sleep(Math.max(0, exp * 1000 - Date.now() + 1100));
    expectChallenge(await getNotes(shortLived), 401, 'Bearer realm="notes", error="invalid_token", error_description="The access token expired."');
    expect(rsLog()).not.toContain(shortLived);
  }, 20_000);
});
