#!/usr/bin/env node
// `npm run bench`: start Gatehouse in a child process on a fresh data directory, run each load
// scenario in another child process (bench/load.mjs, autocannon), print a table and write the same
// figures into docs/benchmarks.md between the markers of the engine that was measured.
//
// Environment (see docs/benchmarks.md):
//   BENCH_DURATION      seconds measured per scenario (default 10)
//   BENCH_CONNECTIONS   concurrent connections (default 16)
//   BENCH_WARMUP        seconds of warm-up per scenario, not measured (default 2)
//   BENCH_DATABASE_URL  run against this database instead of a fresh SQLite file, e.g.
//                       postgres://postgres@127.0.0.1:5432/test (a fresh schema=bench_… is added
//                       when the URL names none, and dropped afterwards)
//   BENCH_SCENARIOS     comma-separated subset of the scenarios (default: all)
//   BENCH_WRITE_DOCS    0 to leave docs/benchmarks.md alone (default 1)
//   BENCH_GATEHOUSE_NODE_ARGS  extra node flags for the server (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
// Other GATEHOUSE_* variables are passed to the server (and listed in the report).
//
// Exits 0 when the benchmark ran, whether or not the targets were met; 1 when it could not run.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'gatehouse.js');
const LOAD = join(ROOT, 'bench', 'load.mjs');
const DOCS = join(ROOT, 'docs', 'benchmarks.md');

// Production defaults, failed-login protection on.
const MAIN_SCENARIOS = ['public', 'basic-warm', 'digest-handshake', 'digest-reused-nonce', 'jwt-resource', 'jwt-refresh', 'jwt-login'];
// Wrong credentials on purpose: with the throttle on these would measure 429s, so a second server
// runs with GATEHOUSE_THROTTLE=false.
const NO_THROTTLE_SCENARIOS = ['basic-wrong-password', 'basic-unknown-user'];
// Needs a third server with GATEHOUSE_CREDENTIAL_CACHE_TTL=0.
const NO_CACHE_SCENARIOS = ['basic-no-cache', 'jwt-resource-no-cache'];
const LABELS = {
  'public': 'Public GET /api/public',
  'basic-warm': 'Basic, correct password (cache warm)',
  'basic-wrong-password': 'Basic, wrong password',
  'basic-unknown-user': 'Basic, unknown user',
  'digest-handshake': 'Digest, full handshake (401 + 200)',
  'digest-reused-nonce': 'Digest, reused nonce (nc = 1, 2, …)',
  'basic-no-cache': 'Basic, correct password, cache off',
  'jwt-resource': 'JWT access token, GET /api/jwt/resources',
  'jwt-resource-no-cache': 'JWT access token, verified-token cache off',
  'jwt-refresh': 'POST /auth/refresh (rotation)',
  'jwt-login': 'POST /auth/login (argon2id)',
};
const TARGETS = [
  { scenario: 'basic-warm', figure: 'requestsPerSec', min: 0.5, text: 'Basic warm requests/s >= 50% of public' },
  { scenario: 'digest-reused-nonce', figure: 'requestsPerSec', min: 0.4, text: 'Digest reused-nonce requests/s >= 40% of public' },
  { scenario: 'digest-handshake', figure: 'requestsPerSec', min: 0.4, text: 'Digest full-handshake requests/s (401 + 200) >= 40% of public' },
];

// The variables the bench sets itself; any other GATEHOUSE_* in the environment reaches the server.
const OWN_VARS = ['GATEHOUSE_DATA_DIR', 'GATEHOUSE_DATABASE_URL', 'GATEHOUSE_LOG_LEVEL', 'GATEHOUSE_THROTTLE', 'GATEHOUSE_PORT', 'GATEHOUSE_HOST', 'GATEHOUSE_CREDENTIAL_CACHE_TTL', 'GATEHOUSE_TOKEN_CACHE_SIZE'];

function intEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) throw new Error(`${name}: expected a whole number from ${min} to ${max}, got "${raw}"`);
  return Number(raw);
}

const SETTLE_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`bench: ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Child processes. Every one we start is tracked, so that nothing is left running on any exit.

const children = new Set();

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    log(`${sig}: stopping`);
    killAll();
    cleanup().finally(() => process.exit(130));
  });
}
process.once('exit', killAll);

/** Run a command to completion; resolve with its output. */
function run(args, { env, input, label }) {
  return new Promise((resolvePromise, reject) => {
    const child = track(spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolvePromise({ out, err });
      else reject(new Error(`${label} failed (${signal ?? `exit ${code}`}): ${err.trim() || out.trim()}`));
    });
    child.stdin.end(input ?? '');
  });
}

/** Start `gatehouse serve`; resolve once it prints its URL. */
function startServer(env) {
  return new Promise((resolvePromise, reject) => {
    const nodeArgs = (process.env.BENCH_GATEHOUSE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = track(spawn(process.execPath, [...nodeArgs, BIN, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    const server = { child, url: undefined, logLines: [], warningCount: 0, exited: undefined };
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start within 30 s:\n${buffered}`)), 30_000);
    // Keep draining both pipes for the whole run: a full pipe would stall the server.
    const onData = (d) => {
      const text = String(d);
      if (!server.url) {
        buffered += text;
        const m = /Gatehouse is listening on (\S+)/.exec(buffered);
        if (m) {
          server.url = m[1];
          clearTimeout(timer);
          resolvePromise(server);
        }
        return;
      }
      // With GATEHOUSE_LOG_LEVEL=warn anything here is a warning or an error: keep a few.
      for (const line of text.split('\n')) {
        if (!line.trim() || /^Gatehouse is stopping\.?$/.test(line.trim())) continue;
        server.warningCount++;
        if (server.logLines.length < 10) server.logLines.push(line.trim());
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      server.exited = signal ?? code;
      clearTimeout(timer);
      if (!server.url) reject(new Error(`the server exited (${signal ?? `exit ${code}`}) before listening:\n${buffered}`));
    });
  });
}

async function stopServer(server) {
  if (server.exited !== undefined) return;
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(() => r('timeout'), 10_000));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    log('the server did not stop within 10 s of SIGTERM: killing it');
    server.child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Databases.

let tempDir;
let dropSchema; // async () => void, when the bench created a PostgreSQL schema

async function cleanup() {
  if (dropSchema) {
    const drop = dropSchema;
    dropSchema = undefined;
    await drop().catch((err) => log(`could not drop the benchmark schema: ${err.message}`));
  }
  if (tempDir) {
    rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  }
}

async function prepareDatabase(dir) {
  const given = process.env.BENCH_DATABASE_URL;
  if (!given) return { url: `sqlite:${join(dir, 'gatehouse.db')}`, engine: 'sqlite', shown: 'SQLite (fresh file, WAL, synchronous=FULL)' };
  if (given.startsWith('sqlite:')) return { url: given, engine: 'sqlite', shown: `SQLite (${given})` };
  if (!/^postgres(ql)?:\/\//.test(given)) throw new Error(`BENCH_DATABASE_URL: expected sqlite:<path> or postgres://…, got "${given}"`);
  const u = new URL(given);
  let schema = u.searchParams.get('schema');
  const pg = (await import('pg')).default;
  const plain = new URL(given);
  plain.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: plain.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  let version;
  try {
    version = (await client.query('show server_version')).rows[0].server_version;
  } finally {
    await client.end();
  }
  if (!schema) {
    schema = `bench_${Date.now().toString(36)}_${process.pid}`;
    u.searchParams.set('schema', schema);
    dropSchema = async () => {
      const c = new pg.Client({ connectionString: plain.toString(), connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await c.end();
      }
    };
  }
  const safe = new URL(plain.toString());
  if (safe.password) safe.password = '***';
  return { url: u.toString(), engine: 'postgres', shown: `PostgreSQL ${version.split(' ')[0]} (${safe.host}${safe.pathname}, schema ${schema})`, schema };
}

// ---------------------------------------------------------------------------------------------
// Reporting.

const fmt = (n, digits = 0) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const pct = (r) => (r === undefined ? '–' : `${(r * 100).toFixed(r < 0.1 ? 1 : 0)}%`);

function notes(r) {
  const parts = [];
  if (r.scenario === 'basic-wrong-password' || r.scenario === 'basic-unknown-user') parts.push('every response is the expected 401');
  if (r.scenario === 'digest-handshake') {
    parts.push(`**${fmt(r.handshakesPerSec)} handshakes/s** (${pct(r.handshakeRatio)} of public); handshake p50/p99 ${fmt(r.handshakeLatencyMs.p50, 1)}/${fmt(r.handshakeLatencyMs.p99, 1)} ms; the 401s are the challenges`);
  }
  if (r.scenario === 'digest-reused-nonce') parts.push(`${fmt(r.noncesFetched)} nonce fetches (401, one per connection), ${fmt(r.staleRefreshes)} stale refreshes`);
  if (r.scenario.startsWith('digest')) parts.push('each 200 checked, rspauth included');
  if (r.scenario === 'jwt-resource') parts.push('one token per connection: signature verified once, then exp and key checked from the verified-token cache; no database read');
  if (r.scenario === 'jwt-resource-no-cache') parts.push('ES256 signature verified with jose on every request');
  if (r.scenario === 'jwt-refresh') parts.push('one transaction per request: lock family, mark used, insert next; each new token used by the next request');
  if (r.scenario === 'jwt-login' && r.hashRate) parts.push(`**${pct(r.requestsPerSec / r.hashRate.verifiesPerSec)} of raw argon2id** (${fmt(r.hashRate.verifiesPerSec)} verifies/s at m=${r.hashRate.memoryCost} t=${r.hashRate.timeCost} p=${r.hashRate.parallelism}, ${r.hashRate.concurrency} at once, measured alone by bench/hash-rate.mjs)`);
  if (r.errors) parts.push(`ERRORS: ${Object.entries(r.errorDetail).filter(([, n]) => n).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  return parts.join('; ');
}

function markdownTable(results) {
  const rows = [
    '| Scenario | Requests/s | vs public | p50 ms | p99 ms | Responses | Non-2xx | Errors | Notes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    rows.push(`| ${LABELS[r.scenario]} | ${fmt(r.requestsPerSec)} | ${pct(r.ratio)} | ${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ${fmt(r.requests)} in ${fmt(r.seconds, 1)} s | ${fmt(r.non2xx)} | ${fmt(r.errors)} | ${notes(r)} |`);
  }
  return rows.join('\n');
}

function plainTable(results) {
  const head = ['scenario', 'req/s', 'vs public', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'];
  const rows = results.map((r) => [r.scenario, fmt(r.requestsPerSec), pct(r.ratio), fmt(r.latencyMs.p50), fmt(r.latencyMs.p99), fmt(r.non2xx), fmt(r.errors)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const extra = results.filter((r) => r.scenario.startsWith('digest') || r.scenario === 'jwt-login').map((r) => `  ${r.scenario}: ${notes(r).replace(/\*\*/g, '')}`);
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...extra].join('\n');
}

function evaluate(byName) {
  return TARGETS.filter((t) => byName[t.scenario] && byName.public).map((t) => {
    const r = byName[t.scenario];
    const ratio = r[t.figure] / byName.public.requestsPerSec;
    const pass = ratio >= t.min && r.errors === 0 && byName.public.errors === 0;
    const why = r.errors || byName.public.errors ? ' (errors in the run)' : '';
    return { ...t, ratio, pass, line: `${pass ? 'PASS' : 'FAIL'}  ${t.text}: ${pct(ratio)} (${fmt(r[t.figure])}/s vs ${fmt(byName.public.requestsPerSec)}/s)${why}` };
  });
}

function updateDocs(engine, section) {
  const start = `<!-- bench:start ${engine} -->`;
  const end = `<!-- bench:end ${engine} -->`;
  let doc = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${section.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i !== -1 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  else doc = `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(DOCS, doc);
}

/** The commit measured, and whether the sources differ from it. */
function revision() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src', 'bin', 'package.json', 'package-lock.json') !== '';
    return `${head}${dirty ? ' with uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const duration = intEnv('BENCH_DURATION', 10, 1, 3600);
  const connections = intEnv('BENCH_CONNECTIONS', 16, 1, 1000);
  const warmup = intEnv('BENCH_WARMUP', 2, 0, 600);
  const writeDocs = (process.env.BENCH_WRITE_DOCS ?? '1') !== '0';
  const wanted = process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',').map((s) => s.trim()).filter(Boolean) : [...MAIN_SCENARIOS, ...NO_THROTTLE_SCENARIOS, ...NO_CACHE_SCENARIOS];
  for (const s of wanted) if (!LABELS[s]) throw new Error(`BENCH_SCENARIOS: unknown scenario "${s}"; choose from ${Object.keys(LABELS).join(', ')}`);
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run bench` (it builds first)');

  const rev = revision();
  const loadAtStart = loadavg()[0];
  if (loadAtStart > 0.5) log(`the 1-minute load average is ${loadAtStart.toFixed(2)}: other work on this machine will skew the figures`);
  tempDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const db = await prepareDatabase(tempDir);
  const user = 'bench';
  const password = `bench-${randomBytes(12).toString('base64url')}`;
  const passthrough = Object.keys(process.env).filter((k) => k.startsWith('GATEHOUSE_') && !OWN_VARS.includes(k)).sort();
  const serverEnv = (extra = {}) => {
    const env = { ...process.env };
    delete env.GATEHOUSE_CREDENTIAL_CACHE_TTL;
    delete env.GATEHOUSE_THROTTLE;
    delete env.GATEHOUSE_TOKEN_CACHE_SIZE;
    return {
      ...env,
      GATEHOUSE_DATA_DIR: tempDir,
      GATEHOUSE_DATABASE_URL: db.url,
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_HOST: '127.0.0.1',
      ...extra,
    };
  };
  const loadEnv = {
    ...process.env,
    BENCH_LOGIN_USERS: process.env.BENCH_LOGIN_USERS || '16',
    BENCH_DURATION: String(duration),
    BENCH_CONNECTIONS: String(connections),
    BENCH_WARMUP: String(warmup),
    BENCH_USER: user,
    BENCH_PASSWORD: password,
  };

  log(`database: ${db.shown}`);
  log(`data dir: ${tempDir}`);
  if (passthrough.length) log(`passing to the server: ${passthrough.join(', ')}`);
  try {
    await run([BIN, 'user', 'add', user, '--password-stdin'], { env: serverEnv(), input: `${password}\n`, label: 'gatehouse user add' });
  } catch (err) {
    if (!/taken|exists/i.test(err.message)) throw err;
    await run([BIN, 'user', 'passwd', user, '--password-stdin'], { env: serverEnv(), input: `${password}\n`, label: 'gatehouse user passwd' });
  }

  // The login scenario logs in as BENCH_LOGIN_USERS distinct users (see bench/load.mjs).
  const loginUsers = Number(process.env.BENCH_LOGIN_USERS || 16);
  if (wanted.some((s) => s.startsWith('jwt-'))) {
    log(`creating ${loginUsers} login users …`);
    for (let i = 0; i < loginUsers; i += 4) {
      await Promise.all(Array.from({ length: Math.min(4, loginUsers - i) }, (_, k) =>
        run([BIN, 'user', 'add', `${user}-${i + k}`, '--password-stdin'], { env: serverEnv(), input: `${password}\n`, label: 'gatehouse user add' }).catch((err) => {
          if (!/taken|exists/i.test(err.message)) throw err;
          return run([BIN, 'user', 'passwd', `${user}-${i + k}`, '--password-stdin'], { env: serverEnv(), input: `${password}\n`, label: 'gatehouse user passwd' });
        }),
      ));
    }
  }
  let hashRate;
  if (wanted.includes('jwt-login')) {
    log('raw argon2id rate (bench/hash-rate.mjs, 5 s) …');
    hashRate = JSON.parse((await run([join(ROOT, 'bench', 'hash-rate.mjs')], { env: { ...process.env }, label: 'hash rate' })).out.trim());
    log(`raw argon2id: ${fmt(hashRate.verifiesPerSec)} verifies/s`);
  }

  const results = [];
  const warnings = [];
  const phases = [
    { scenarios: MAIN_SCENARIOS.filter((s) => wanted.includes(s)), extra: {}, what: 'default settings' },
    { scenarios: NO_THROTTLE_SCENARIOS.filter((s) => wanted.includes(s)), extra: { GATEHOUSE_THROTTLE: 'false' }, what: 'GATEHOUSE_THROTTLE=false' },
    { scenarios: NO_CACHE_SCENARIOS.filter((s) => wanted.includes(s)), extra: { GATEHOUSE_CREDENTIAL_CACHE_TTL: '0', GATEHOUSE_TOKEN_CACHE_SIZE: '0' }, what: 'GATEHOUSE_CREDENTIAL_CACHE_TTL=0, GATEHOUSE_TOKEN_CACHE_SIZE=0' },
  ];
  // The public baseline is needed for the ratios, even when only other scenarios were asked for.
  if (!phases[0].scenarios.includes('public')) phases[0].scenarios.unshift('public');
  for (const phase of phases) {
    if (phase.scenarios.length === 0) continue;
    const server = await startServer(serverEnv(phase.extra));
    log(`server (${phase.what}) listening on ${server.url}, pid ${server.child.pid}`);
    try {
      for (const name of phase.scenarios) {
        log(`${name}: ${warmup} s warm-up + ${duration} s, ${connections} connections …`);
        const { out, err } = await run([LOAD, name, server.url], { env: loadEnv, label: `load ${name}` });
        if (err.trim()) process.stderr.write(err);
        const r = JSON.parse(out.trim().split('\n').pop());
        if (name === 'jwt-login') r.hashRate = hashRate;
        results.push(r);
        log(`${name}: ${fmt(r.requestsPerSec)} req/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, errors ${r.errors}`);
        if (server.exited !== undefined) throw new Error(`the server exited (${server.exited}) during ${name}`);
        // Let the server finish what the load left in flight (argon2 checks take a while) before the next step.
        await sleep(SETTLE_MS);
      }
    } finally {
      await stopServer(server);
      if (server.warningCount) {
        warnings.push(`server (${phase.what}): ${server.warningCount} log line(s) at level warn or above${server.warningCount > server.logLines.length ? `; the first ${server.logLines.length}:` : ':'}`);
        warnings.push(...server.logLines.map((l) => `  ${l}`));
      }
    }
  }
  await cleanup();

  const byName = Object.fromEntries(results.map((r) => [r.scenario, r]));
  const base = byName.public.requestsPerSec;
  for (const r of results) {
    r.ratio = r.requestsPerSec / base;
    if (r.handshakesPerSec !== undefined) r.handshakeRatio = r.handshakesPerSec / base;
  }
  const verdicts = evaluate(byName);
  const cpu = cpus()[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const autocannonVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'autocannon', 'package.json'), 'utf8')).version;
  const anyErrors = results.some((r) => r.errors);
  const meta = [
    `- Date: ${date}`,
    `- Machine: ${availableParallelism()} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, shared by the server and the load generator; load average ${loadAtStart.toFixed(2)} at the start`,
    `- Code: ${rev}; Node ${process.version}; autocannon ${autocannonVersion}`,
    `- Engine: ${db.shown}`,
    `- Load: ${connections} connections, ${warmup} s warm-up then ${duration} s per scenario, one scenario at a time (autocannon stops on its next 1 s tick, so a period lasts ${duration} to ${duration + 1} s; rates use the measured time)`,
    `- Server: \`GATEHOUSE_LOG_LEVEL=warn\`, other settings default (failed-login protection on)${passthrough.length ? ` except ${passthrough.map((k) => `\`${k}=${process.env[k]}\``).join(', ')}` : ''}; the wrong-password and unknown-user rows come from a second server with \`GATEHOUSE_THROTTLE=false\` (else they would measure 429s), the cache-off rows from a third with \`GATEHOUSE_CREDENTIAL_CACHE_TTL=0\` and \`GATEHOUSE_TOKEN_CACHE_SIZE=0\``,
  ];
  const section = [
    `### ${db.engine === 'postgres' ? 'PostgreSQL' : 'SQLite'}`,
    '',
    ...meta,
    '',
    markdownTable(results),
    '',
    'Targets:',
    '',
    ...verdicts.map((v) => `- ${v.line}`),
    ...(anyErrors ? ['', '**Some scenarios had errors: their figures are not valid.**'] : []),
    ...(warnings.length ? ['', 'Server log lines at level warn or above during the run:', '', '```', ...warnings, '```'] : []),
  ].join('\n');

  process.stdout.write(`\nGatehouse benchmark — ${db.shown}\n${meta.map((m) => m.replace(/`/g, '')).join('\n')}\n\n${plainTable(results)}\n\n${verdicts.map((v) => v.line).join('\n')}\n`);
  if (anyErrors) process.stdout.write('\nWARNING: some scenarios had errors; their figures are not valid.\n');
  if (warnings.length) process.stdout.write(`\nServer warnings:\n${warnings.join('\n')}\n`);
  if (writeDocs) {
    updateDocs(db.engine, section);
    process.stdout.write(`\nwrote the ${db.engine} results to ${DOCS.slice(ROOT.length + 1)}\n`);
  }
}

main().catch(async (err) => {
  log(err.message ?? String(err));
  killAll();
  await cleanup();
  process.exit(1);
});
