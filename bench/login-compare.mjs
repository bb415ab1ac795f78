#!/usr/bin/env node
// The full OpenID Connect login round trip, Gatehouse against node-oidc-provider, in one run: each
// server in its own process and the load (bench/login-load.mjs) in a third. One round trip is a new
// browser (a fresh cookie jar) going authorize → login page → password posted → consent page →
// "allow" posted → the callback with a code → token (client_secret_basic, PKCE S256, an ID token) →
// UserInfo, and the load checks every step. Gatehouse uses its durable SQLite store
// (synchronous=FULL) and its own pages; node-oidc-provider (bench/oidc-provider-login-server.mjs) an
// in-memory adapter and interaction pages written as an application would, checking the password
// with argon2id at Gatehouse's parameters.
// Env: BENCH_DURATION (10), BENCH_WARMUP (2), BENCH_CONNECTIONS (16), BENCH_WRITE_DOCS (1),
// BENCH_ONE_USER (0; 1: every virtual browser signs in as alice, and Gatehouse then merges
// concurrent identical password checks into one), BENCH_HASH_SECONDS (5; the raw argon2id rate
// measured first for reference, 0 skips it), BENCH_GATEHOUSE_NODE_ARGS (extra node flags for the
// Gatehouse server).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, num, ROOT, run, startServer, stopAll, writeDocsBlock } from './lib/processes.mjs';

const duration = num('BENCH_DURATION', 10);
const warmup = num('BENCH_WARMUP', 2);
const connections = num('BENCH_CONNECTIONS', 16);
const hashSeconds = Number(process.env.BENCH_HASH_SECONDS ?? 5);
const oneUser = process.env.BENCH_ONE_USER === '1';
const log = (m) => process.stderr.write(`login-compare: ${m}\n`);

const CALLBACK = 'http://127.0.0.1:1/cb';
const SCOPE = 'openid profile email';
const USER_PASSWORD = randomBytes(18).toString('base64url');
// One account per virtual browser (alice-1, alice-2, …) unless BENCH_ONE_USER=1: Gatehouse runs one
// argon2 check for concurrent logins with the same username, password and IP, which would turn 16
// browsers signing in as one user into fewer password checks than round trips.
const USERS = oneUser
  ? [{ username: 'alice', email: 'alice@example.com', name: 'Alice' }]
  : Array.from({ length: connections }, (_, i) => ({ username: `alice-${i + 1}`, email: `alice-${i + 1}@example.com`, name: `Alice ${i + 1}` }));

let specs = 0;
async function load(spec, dir) {
  const file = join(dir, `login-spec-${++specs}.json`);
  writeFileSync(file, JSON.stringify({ ...spec, clientId: 'web', redirectUri: CALLBACK, scope: SCOPE, users: USERS.map(({ username, email }) => ({ username, email })), password: USER_PASSWORD, duration, warmup, connections }));
  return JSON.parse((await run([join(ROOT, 'bench', 'login-load.mjs'), `@${file}`], process.env, '', { passStderr: true })).trim());
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build`');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-login-bench-'));
  const env = { ...process.env, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_PORT: '0', GATEHOUSE_HOST: '127.0.0.1' };
  // The argon2id parameters Gatehouse will use (its defaults, or GATEHOUSE_ARGON2_* if set): the other side uses the same.
  const { loadSettings } = await import(pathToFileURL(join(ROOT, 'dist', 'config', 'settings.js')).href);
  const settings = loadSettings({}, env);
  const argon2 = { memory: settings.argon2Memory, time: settings.argon2Time, parallelism: settings.argon2Parallelism, concurrency: settings.argon2Concurrency };
  try {
    log(`registering ${USERS.length} user(s) and the client …`);
    for (const u of USERS) {
      await run([BIN, 'user', 'add', u.username, '--password-stdin', '--email', u.email, '--email-verified', '--name', u.name], env, `${USER_PASSWORD}\n`);
    }
    const client = JSON.parse(await run([BIN, 'client', 'add', 'web', '--grant', 'authorization_code', '--redirect-uri', CALLBACK, '--json'], env));
    if (!client.requireConsent) throw new Error('the client was registered without consent');
    let hashRate;
    if (hashSeconds > 0) {
      log(`raw argon2id rate (${hashSeconds} s) …`);
      hashRate = JSON.parse((await run([join(ROOT, 'bench', 'hash-rate.mjs')], { ...env, BENCH_HASH_SECONDS: String(hashSeconds), GATEHOUSE_ARGON2_MEMORY: String(argon2.memory), GATEHOUSE_ARGON2_TIME: String(argon2.time), GATEHOUSE_ARGON2_PARALLELISM: String(argon2.parallelism), GATEHOUSE_ARGON2_CONCURRENCY: String(argon2.concurrency) })).trim());
    }
    const secret = randomBytes(32).toString('base64url');
    const gh = await startServer([...(process.env.BENCH_GATEHOUSE_NODE_ARGS ?? '').split(' ').filter(Boolean), BIN, 'serve'], env, /listening on (\S+)/);
    const op = await startServer([join(ROOT, 'bench', 'oidc-provider-login-server.mjs')], {
      ...process.env, SECRET: secret, USER_PASSWORD, USERS: JSON.stringify(USERS),
      ARGON2_MEMORY: String(argon2.memory), ARGON2_TIME: String(argon2.time), ARGON2_PARALLELISM: String(argon2.parallelism),
    }, /listening on (\S+)/);
    const servers = {
      gatehouse: { child: gh.child, issuer: gh.url, authorizePath: '/oauth/authorize', tokenPath: '/oauth/token', userinfoPath: '/oidc/userinfo', clientSecret: client.client_secret },
      'node-oidc-provider': { child: op.child, issuer: op.url, authorizePath: '/auth', tokenPath: '/token', userinfoPath: '/me', clientSecret: secret },
    };
    const startLoad = loadavg()[0];
    const result = {};
    for (const [name, s] of Object.entries(servers)) {
      log(`login round trips: ${name} …`);
      const { child, ...spec } = s;
      result[name] = await load({ ...spec, serverPid: child.pid }, dir);
      if (result[name].errors || result[name].warmupErrors) log(`${name}: ${result[name].errors} errors (+${result[name].warmupErrors} in the warm-up): ${JSON.stringify(result[name].errorKinds)}`);
    }
    await stopAll([gh, op]);

    const ours = result.gatehouse;
    const theirs = result['node-oidc-provider'];
    const fmt = (n) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
    const ratio = theirs.roundTripsPerSec > 0 ? ours.roundTripsPerSec / theirs.roundTripsPerSec : NaN;
    const cpuMs = (r) => (r.serverCpuMsPerRoundTrip == null ? 'n/a' : fmt(r.serverCpuMsPerRoundTrip));
    const table = [
      '| Scenario | Gatehouse (SQLite, durable) | node-oidc-provider (in memory) | Ratio | p50 / p99 ms per round trip, Gatehouse | p50 / p99 ms, node-oidc-provider | Server CPU ms per round trip (ours / theirs) | HTTP requests per round trip (ours / theirs) | Errors (ours / theirs) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| login round trips/s (authorize → login → consent → token → userinfo) | ${fmt(ours.roundTripsPerSec)} | ${fmt(theirs.roundTripsPerSec)} | ${ratio.toFixed(2)}× | ${fmt(ours.p50)} / ${fmt(ours.p99)} | ${fmt(theirs.p50)} / ${fmt(theirs.p99)} | ${cpuMs(ours)} / ${cpuMs(theirs)} | ${fmt(ours.requestsPerRoundTrip)} / ${fmt(theirs.requestsPerRoundTrip)} | ${ours.errors} / ${theirs.errors} |`,
    ];
    const version = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'oidc-provider', 'package.json'), 'utf8')).version;
    const argon = `argon2id m=${argon2.memory} t=${argon2.time} p=${argon2.parallelism}`;
    const share = (r) => (hashRate ? `${Math.round((100 * r.roundTripsPerSec) / hashRate.verifiesPerSec)} %` : undefined);
    const section = [
      '### OpenID Connect login round trips, side by side with node-oidc-provider',
      '',
      `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ${availableParallelism()} CPUs (${cpus()[0]?.model?.trim()}), shared by both servers and the load; load average ${startLoad.toFixed(2)} before the load; Node ${process.version}; oidc-provider ${version}`,
      '- `npm run build && node bench/login-compare.mjs` (bench/login-load.mjs is the load, bench/oidc-provider-login-server.mjs the other server)',
      `- ${connections} virtual browsers, ${warmup} s warm-up, ${duration} s measured (round trips finished in it), one server at a time; ${oneUser ? 'every browser signs in as the same user (BENCH_ONE_USER=1: Gatehouse merges concurrent identical password checks, so it runs fewer argon2 checks than logins)' : `browser *i* signs in as its own user (${USERS.length} users), as different people would`}`,
      `- ${argon} on both sides, at most ${argon2.concurrency} at once on both (Gatehouse's limit; libuv's thread pool for node-oidc-provider)${hashRate ? `; raw rate alone: ${fmt(hashRate.verifiesPerSec)} verifies/s (bench/hash-rate.mjs, ${hashRate.concurrency} at once, before the servers started)` : ''}`,
      '',
      ...table,
      '',
      `One round trip is a new browser (an empty cookie jar) signing in from scratch: the authorization request (code flow, PKCE S256, state, nonce, \`prompt=consent\`), the login page, its form posted with the password, the consent page, its form posted with "allow", the redirect to the client with a code, the code exchanged at the token endpoint with client_secret_basic (an ID token and an access token), and UserInfo with the access token. The load follows the redirects itself, reads each page's form like a browser, and counts a round trip only if it saw both pages, got its state back, an ID token with its nonce, and UserInfo with the user's sub and email. Gatehouse's pages post back to its authorization endpoint, which answers with the next page or the redirect; node-oidc-provider redirects to the application's interaction pages and back to resume after each of them. On both sides the password check dominates: one ${argon} verification is about 30 ms of one core at the defaults, most of the server CPU per round trip in the table. What the rest costs differs in kind: node-oidc-provider keeps its sessions, interactions, grants, codes and tokens in memory; Gatehouse writes its own durably to SQLite (the throttle's attempt record and its clearing, the session, the consent, the code, its redemption and the access token: about 8 fsyncs per round trip, counted with strace), and better-sqlite3 waits for each fsync on the event loop, so on a disk shared with other work it can lose rate to waiting while its CPU per round trip stays close to the other side's${hashRate ? ` (round trips/s as a share of the raw argon2id rate: Gatehouse ${share(ours)}, node-oidc-provider ${share(theirs)})` : ''}. The servers, the load and whatever else runs share the CPUs and the disk: on a busy machine the rates move by a third or more between runs minutes apart, so compare several runs before reading much into the ratio.`,
    ].join('\n');
    process.stdout.write(`\n${section}\n`);
    writeDocsBlock('oidc-login', section);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => (log(err.message), process.exit(1)));
