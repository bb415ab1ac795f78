#!/usr/bin/env node
// Gatehouse's OAuth token side against node-oidc-provider, in one run, each server in its own
// process and the load in a third: client_credentials grants/s (ES256 JWT access tokens on both) and
// introspections/s (of an opaque token on both). Gatehouse uses its durable SQLite store
// (synchronous=FULL); node-oidc-provider its in-memory development adapter.
// Env: BENCH_DURATION (10), BENCH_WARMUP (2), BENCH_CONNECTIONS (16), BENCH_WRITE_DOCS (1),
// BENCH_ONLY (run only the scenarios whose name contains it; the docs are then left alone),
// BENCH_GATEHOUSE_NODE_ARGS (extra node flags for the Gatehouse server, e.g. --cpu-prof).
// and authorization-code exchanges/s (PKCE, JWT access token, no refresh token on either side):
// Gatehouse's codes come from its real authorization endpoint (a logged-in session, consent not
// required), node-oidc-provider's from its models through a bench-only route of its server.
// Refreshes/s: each request rotates a fresh refresh token (rotation on both sides).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, num, ROOT, run, startServer, stopAll, writeDocsBlock } from './lib/processes.mjs';

const duration = num('BENCH_DURATION', 10);
const warmup = num('BENCH_WARMUP', 2);
const connections = num('BENCH_CONNECTIONS', 16);
const log = (m) => process.stderr.write(`oauth-compare: ${m}\n`);

async function post(url, auth, form) {
  const r = await fetch(url, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const j = await r.json();
  if (!r.ok) throw new Error(`${url}: ${JSON.stringify(j)}`);
  return j;
}

const CALLBACK = 'http://127.0.0.1:1/cb';
const USER_PASSWORD = randomBytes(18).toString('base64url');
const VERIFIER = randomBytes(32).toString('base64url');
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
// Enough single-use codes for warm-up plus the measured period at each server's rate.
// A request after the supply runs out repeats the last body (a replay): it counts as an error, and
// the table reports successful responses only.
const CODES = { gatehouse: Number(process.env.BENCH_CODES || 60000), provider: Number(process.env.BENCH_PROVIDER_CODES || 150000) };
const REFRESH_TOKENS = Number(process.env.BENCH_REFRESH_TOKENS || 40000);

/** Codes from Gatehouse's authorization endpoint: log in once, then GET /oauth/authorize many times. */
async function gatehouseCodes(base, n, clientId = 'web') {
  const login = await fetch(`${base}/session/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: USER_PASSWORD }) });
  if (!login.ok) throw new Error(`session login: ${login.status}`);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const url = `${base}/oauth/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: CALLBACK, response_type: 'code', scope: 'api', code_challenge: CHALLENGE, code_challenge_method: 'S256' })}`;
  const codes = [];
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (codes.length < n) {
      const r = await fetch(url, { headers: { cookie }, redirect: 'manual' });
      const code = new URL(r.headers.get('location') ?? 'x:', base).searchParams.get('code');
      if (!code) throw new Error(`authorize: ${r.status}`);
      codes.push(code);
    }
  }));
  return codes;
}

/** Refresh tokens from Gatehouse's real flow: codes, each exchanged for a token pair. */
async function gatehouseRefreshTokens(base, n, auth) {
  const codes = await gatehouseCodes(base, n, 'web-refresh');
  const tokens = [];
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let code = codes.pop(); code; code = codes.pop()) {
      tokens.push((await post(`${base}/oauth/token`, auth, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: VERIFIER })).refresh_token);
    }
  }));
  return tokens;
}

/** Codes or refresh tokens minted through node-oidc-provider's models (its bench-only route). */
async function oidcProviderMinted(base, kind, n) {
  const out = [];
  for (let i = 0; i < n; i += 5000) out.push(...(await (await fetch(`${base}/__bench/${kind}?n=${Math.min(5000, n - i)}&challenge=${CHALLENGE}`)).json()));
  return out;
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
let specs = 0;
const load = async (spec, dir) => {
  const file = join(dir, `spec-${++specs}.json`);
  writeFileSync(file, JSON.stringify({ ...spec, duration, warmup, connections }));
  return JSON.parse((await run([join(ROOT, 'bench', 'http-load.mjs'), `@${file}`], process.env)).trim());
};

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run bench`');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-oauth-bench-'));
  const env = { ...process.env, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_PORT: '0', GATEHOUSE_HOST: '127.0.0.1' };
  try {
    const jwtClient = JSON.parse(await run([BIN, 'client', 'add', 'svc', '--grant', 'client_credentials', '--json'], env));
    const opaqueClient = JSON.parse(await run([BIN, 'client', 'add', 'svc-opaque', '--grant', 'client_credentials', '--token-format', 'opaque', '--json'], env));
    const webClient = JSON.parse(await run([BIN, 'client', 'add', 'web', '--grant', 'authorization_code', '--redirect-uri', CALLBACK, '--no-consent', '--json'], env));
    const refreshClient = JSON.parse(await run([BIN, 'client', 'add', 'web-refresh', '--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', CALLBACK, '--no-consent', '--json'], env));
    await run([BIN, 'user', 'add', 'alice', '--password-stdin'], env, `${USER_PASSWORD}\n`);
    const secret = randomBytes(32).toString('base64url');
    const gh = await startServer([...(process.env.BENCH_GATEHOUSE_NODE_ARGS ?? '').split(' ').filter(Boolean), BIN, 'serve'], env, /listening on (\S+)/);
    const op = await startServer([join(ROOT, 'bench', 'oidc-provider-server.mjs')], { ...process.env, SECRET: secret }, /listening on (\S+)/);
    const servers = {
      gatehouse: { token: `${gh.url}/oauth/token`, introspect: `${gh.url}/oauth/introspect`, auth: basic('svc', jwtClient.client_secret), opaqueAuth: basic('svc-opaque', opaqueClient.client_secret), webAuth: basic('web', webClient.client_secret), codes: () => gatehouseCodes(gh.url, CODES.gatehouse), refreshAuth: basic('web-refresh', refreshClient.client_secret), refreshTokens: () => gatehouseRefreshTokens(gh.url, REFRESH_TOKENS, basic('web-refresh', refreshClient.client_secret)) },
      'node-oidc-provider': { token: `${op.url}/token`, introspect: `${op.url}/token/introspection`, auth: basic('svc', secret), opaqueAuth: basic('svc-opaque', secret), webAuth: basic('web', secret), codes: () => oidcProviderMinted(op.url, 'codes', CODES.provider), refreshAuth: basic('web-refresh', secret), refreshTokens: () => oidcProviderMinted(op.url, 'refresh-tokens', CODES.provider) },
    };
    const rows = [];
    for (const [scenario, build, target = 2] of [
      ['client_credentials grants/s (JWT)', async (s) => ({ url: s.token, method: 'POST', headers: { authorization: s.auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=api' })],
      ['introspections/s (opaque token)', async (s) => {
        const t = await post(s.token, s.opaqueAuth, { grant_type: 'client_credentials', scope: 'api' });
        return { url: s.introspect, method: 'POST', headers: { authorization: s.auth, 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${t.access_token}` };
      }],
      ['authorization-code exchanges/s', async (s) => {
        const codes = await s.codes();
        const bodies = codes.map((code) => new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: VERIFIER }).toString());
        return { url: s.token, method: 'POST', headers: { authorization: s.webAuth, 'content-type': 'application/x-www-form-urlencoded' }, bodies };
      }, 1.5],
      ['refreshes/s', async (s) => {
        const tokens = await s.refreshTokens();
        const bodies = tokens.map((t) => `grant_type=refresh_token&refresh_token=${encodeURIComponent(t)}`);
        return { url: s.token, method: 'POST', headers: { authorization: s.refreshAuth, 'content-type': 'application/x-www-form-urlencoded' }, bodies };
      }, 1.5],
    ]) {
      if (process.env.BENCH_ONLY && !scenario.includes(process.env.BENCH_ONLY)) continue;
      const result = {};
      for (const [name, s] of Object.entries(servers)) {
        log(`${scenario}: ${name} …`);
        result[name] = await load(await build(s), dir);
        if (result[name].errors) log(`${scenario}: ${name}: statuses ${JSON.stringify(result[name].statuses)}`);
      }
      rows.push({ scenario, target, ...result });
    }
    await stopAll([gh, op]);
    const fmt = (n) => Math.round(n).toLocaleString('en-US');
    const table = ['| Scenario | Gatehouse (SQLite, durable) | node-oidc-provider (in memory) | Ratio | Target | Errors (ours / theirs) |', '|---|---:|---:|---:|---|---:|'];
    for (const r of rows) {
      // Successful responses per second: an error (a 4xx, a timeout) is not a grant.
      const ok = (x) => x.requestsPerSec - x.errors / duration;
      const ratio = ok(r.gatehouse) / ok(r['node-oidc-provider']);
      table.push(`| ${r.scenario} | ${fmt(ok(r.gatehouse))} | ${fmt(ok(r['node-oidc-provider']))} | ${ratio.toFixed(2)}× | ≥ ${r.target}× ${ratio >= r.target ? 'PASS' : 'FAIL'} | ${r.gatehouse.errors} / ${r["node-oidc-provider"].errors} |`);
    }
    const version = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'oidc-provider', 'package.json'), 'utf8')).version;
    const section = [
      '### OAuth, side by side with node-oidc-provider',
      '',
      `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ${availableParallelism()} CPUs (${cpus()[0]?.model?.trim()}), load average ${loadavg()[0].toFixed(2)}; Node ${process.version}; oidc-provider ${version}`,
      `- ${connections} connections, ${warmup} s warm-up, ${duration} s measured, one server at a time; the same client (Basic auth) and scope on both; rates count successful responses only`,
      '',
      ...table,
      '',
      "Code exchanges: every request redeems a fresh code (PKCE S256) for an ES256 JWT access token; Gatehouse also records the token's hash under a family id kept on the code (so that a replayed code revokes it), with synchronous=FULL. Refreshes: every request presents a fresh refresh token (Gatehouse's from real code exchanges, node-oidc-provider's minted through its models) and gets a rotated refresh token and an ES256 JWT access token; Gatehouse locks the family, marks the token used, stores the new one and records the access token, durably.",
    ].join('\n');
    process.stdout.write(`\n${section}\n`);
    if (!process.env.BENCH_ONLY) writeDocsBlock('oauth', section);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => (log(err.message), process.exit(1)));
