#!/usr/bin/env node
// `npm run bench:resource`: what the resource-server toolkit costs. Gatehouse (`gatehouse serve`, a
// fresh SQLite file) and the example resource server (examples/resource-server/server.mjs, which
// uses `gatehouse/resource`) run as two child processes; the load (bench/resource-load.mjs,
// autocannon) runs in a third, the crypto limit (bench/resource-jwtverify.mjs) in a fourth.
//
//   1. GET /public/notes without authentication: the example's own ceiling;
//   2. GET /notes with one JWT on every request: what a client sending its token again and again
//      costs (the signature was verified once; later requests hit the verified-token cache);
//   3. GET /notes with a different JWT on every request (client_credentials tokens minted from
//      Gatehouse beforehand): every request pays a full verification;
//   4. jose's jwtVerify in a loop on the same tokens and key, alone in its process: the crypto limit.
//
// Targets: (2) at least 80% of (1); (3) at least 90% of (4), taking the faster of one loop and
// BENCH_CONNECTIONS concurrent loops. Prints a table and writes it into docs/benchmarks.md between
// <!-- bench:start resource --> and <!-- bench:end resource --> (appended if missing).
// Env: BENCH_DURATION (10), BENCH_WARMUP (2), BENCH_CONNECTIONS (16), BENCH_WRITE_DOCS (1; 0 skips), BENCH_RS_NODE_ARGS (extra node flags for the example server, e.g. --cpu-prof).
// Exits 0 when it ran, whether or not the targets were met; 1 when it could not run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { BIN, DOCS, num, ROOT, run, startServer, stopAll, writeDocsBlock } from './lib/processes.mjs';

const EXAMPLE = join(ROOT, 'examples', 'resource-server', 'server.mjs');
const AUD = 'https://notes.example';
const duration = num('BENCH_DURATION', 10);
const warmup = num('BENCH_WARMUP', 2);
const connections = num('BENCH_CONNECTIONS', 16);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));
const log = (m) => process.stderr.write(`resource-compare: ${m}\n`);

/** CPU time (user + system, all threads) of a process so far, in microseconds; undefined off Linux. */
function cpuOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
let CLOCK_TICKS = 100;
try {
  CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* the Linux default */
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** `n` client_credentials tokens from Gatehouse's token endpoint, 16 requests at a time. */
async function mint(base, auth, n) {
  const out = [];
  let asked = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (asked < n) {
      asked++;
      const r = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=notes%3Aread' });
      const j = await r.json();
      if (!r.ok) throw new Error(`token endpoint: ${r.status} ${JSON.stringify(j)}`);
      out.push(j.access_token);
    }
  }));
  return out;
}

let specs = 0;
async function inProcess(script, spec, dir) {
  const file = join(dir, `spec-${++specs}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return JSON.parse((await run([join(ROOT, 'bench', script), `@${file}`], process.env)).trim().split('\n').pop());
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const pct = (r) => `${(r * 100).toFixed(0)}%`;

/** Where the time of a request with a new token goes, from the CPU figures of this run. */
function why(open, unique, raw) {
  if (unique.serverCpuUs === undefined || open.serverCpuUs === undefined) return 'CPU figures need Linux (/proc).';
  const rest = unique.serverCpuUs - open.serverCpuUs - raw.cpuUs;
  return [
    `Where the time goes: a request with a new token cost the resource server ${Math.round(unique.serverCpuUs)} µs of CPU (all threads), against ${Math.round(open.serverCpuUs)} µs without authentication;`,
    `jose's jwtVerify costs ${Math.round(raw.cpuUs)} µs of CPU per token in the raw loop, and the remaining ${Math.round(rest)} µs are the toolkit's own checks (strict JWS parsing, the verified-token cache)`,
    `and the contention of the event loop, libuv's threads and the load generator (${Math.round(unique.loadCpuUs)} µs per request) for ${availableParallelism()} cores.`,
    `The raw loop spends ${raw.cores} cores on verification alone; the server spends the same machine on verification, HTTP and the load,`,
    `so at these costs it can serve at most about ${fmt((raw.cores * 1e6) / (unique.serverCpuUs + unique.loadCpuUs))} requests/s with a new token each.`,
  ].join(' ');
}

async function main() {
  if (!existsSync(join(ROOT, 'dist', 'resource', 'index.js'))) throw new Error('dist/ is missing: run `npm run bench:resource` (it builds first)');
  const loadAtStart = loadavg()[0];
  if (loadAtStart > 0.5) log(`the 1-minute load average is ${loadAtStart.toFixed(2)}: other work on this machine will skew the figures`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-resource-bench-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GATEHOUSE_') && !k.startsWith('RS_')));
  const env = { ...clean, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_PORT: '0', GATEHOUSE_HOST: '127.0.0.1', GATEHOUSE_SCOPES: `notes:read@${AUD}` };
  try {
    const client = JSON.parse(await run([BIN, 'client', 'add', 'bench-svc', '--grant', 'client_credentials', '--json'], env));
    const auth = basic('bench-svc', client.client_secret);
    const gh = await startServer([BIN, 'serve'], env, /Gatehouse is listening on (\S+)/);
    const rs = await startServer([...(process.env.BENCH_RS_NODE_ARGS ?? '').split(' ').filter(Boolean), EXAMPLE], { ...clean, RS_ISSUER: gh.url, RS_AUDIENCE: AUD, RS_PORT: '0', RS_HOST: '127.0.0.1' }, /resource server listening on (\S+)/);
    log(`Gatehouse on ${gh.url} (pid ${gh.child.pid}), example resource server on ${rs.url} (pid ${rs.child.pid})`);
    // Each load run also measures the resource server's CPU time per request (warm-up included).
    const load = async (spec) => {
      const before = cpuOf(rs.child.pid);
      const r = await inProcess('resource-load.mjs', { duration, warmup, connections, ...spec }, dir);
      const after = cpuOf(rs.child.pid);
      r.serverCpuUs = before === undefined || after === undefined ? undefined : (after - before) / (r.requests + r.warmupRequests);
      return r;
    };

    // The crypto limit, measured first while both servers are idle.
    const sample = await mint(gh.url, auth, 2000);
    writeFileSync(join(dir, 'sample.txt'), sample.join('\n'));
    const check = await fetch(`${rs.url}/notes`, { headers: { authorization: `Bearer ${sample[0]}` } });
    if (check.status !== 200) throw new Error(`the example refused a fresh token: ${check.status} ${await check.text()}`);
    const verifySpec = { jwksUri: `${gh.url}/.well-known/jwks.json`, issuer: gh.url, audience: AUD, tokensFile: join(dir, 'sample.txt'), duration, warmup };
    log('raw jwtVerify, one loop …');
    const rawOne = await inProcess('resource-jwtverify.mjs', { ...verifySpec, concurrency: 1 }, dir);
    log(`raw jwtVerify, ${connections} concurrent loops …`);
    const rawMany = await inProcess('resource-jwtverify.mjs', { ...verifySpec, concurrency: connections }, dir);
    const limit = Math.max(rawOne.verifiesPerSec, rawMany.verifiesPerSec);
    log(`raw jwtVerify: ${fmt(rawOne.verifiesPerSec)}/s (1 loop), ${fmt(rawMany.verifiesPerSec)}/s (${connections} loops)`);

    log('GET /public/notes, no authentication …');
    const open = await load({ url: `${rs.url}/public/notes` });
    log(`GET /notes, one JWT on every request …`);
    const repeated = await load({ url: `${rs.url}/notes`, token: sample[0] });

    // Enough unique tokens for the warm-up and the measured period, even a little above the limit.
    const needed = Math.ceil(limit * (duration + warmup + 2) * 1.3);
    log(`minting ${fmt(needed)} unique tokens from Gatehouse …`);
    const t0 = Date.now();
    writeFileSync(join(dir, 'unique.txt'), (await mint(gh.url, auth, needed)).join('\n'));
    log(`minted in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    log('GET /notes, a different JWT on every request …');
    const unique = await load({ url: `${rs.url}/notes`, tokensFile: join(dir, 'unique.txt') });

    await stopAll([gh, rs]);

    const repeatedRatio = repeated.requestsPerSec / open.requestsPerSec;
    const uniqueRatio = unique.requestsPerSec / limit;
    const errorsIn = (r) => r.errors;
    const verdict = (ok, r) => `${ok && !errorsIn(r) ? 'PASS' : 'FAIL'}${errorsIn(r) ? ' (errors in the run)' : ''}`;
    const us = (v) => (v === undefined ? '–' : `${Math.round(v)} µs`);
    const row = (name, r, ratio, target) => `| ${name} | ${fmt(r.requestsPerSec)} | ${ratio} | ${target} | ${r.p50} | ${r.p99} | ${fmt(r.requests)} in ${r.seconds.toFixed(1)} s | ${r.errors} | ${us(r.serverCpuUs)} | ${us(r.loadCpuUs)} |`;
    const rawRow = (name, r) => `| ${name} | ${fmt(r.verifiesPerSec)} | | | | | ${fmt(r.verifies)} in ${r.seconds.toFixed(1)} s | | ${us(r.cpuUs)} (${r.cores} cores busy) | |`;
    const table = [
      '| Scenario | Requests/s | Ratio | Target | p50 ms | p99 ms | Responses | Errors | Server CPU per request | Load CPU per request |',
      '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|',
      row('GET /public/notes, no authentication (the same handler)', open, '100%', ''),
      row('GET /notes, one JWT repeated (verified-token cache)', repeated, `${pct(repeatedRatio)} of no auth`, `≥ 80% ${verdict(repeatedRatio >= 0.8, repeated)}`),
      row('GET /notes, a new JWT on every request', unique, `${pct(uniqueRatio)} of raw jwtVerify`, `≥ 90% ${verdict(uniqueRatio >= 0.9, unique)}`),
      rawRow('jose jwtVerify in a loop (1 at a time), alone', rawOne),
      rawRow(`jose jwtVerify, ${connections} loops at once, alone`, rawMany),
    ];
    const cpu = cpus()[0]?.model?.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
    const section = [
      '### Resource-server toolkit (examples/resource-server)',
      '',
      `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}; ${availableParallelism()} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load average ${loadAtStart.toFixed(2)} at the start; Node ${process.version}`,
      `- Two processes (Gatehouse on SQLite, the example resource server with its defaults: ${rawOne.alg} keys from the JWKS, leeway 30 s, verified-token cache 10,000), the load (autocannon) in a third; ${connections} connections, ${warmup} s warm-up, ${duration} s measured per scenario`,
      `- Unique tokens: ${fmt(needed)} client_credentials tokens minted from Gatehouse's token endpoint before the run, each sent once (${fmt(unique.tokensUsed ?? 0)} used in the measured period); the raw loop verifies 2,000 such tokens in turn with the key imported once, in a process of its own`,
      '',
      ...table,
      '',
      why(open, unique, rawMany),
      '',
      `Targets: one repeated JWT ${verdict(repeatedRatio >= 0.8, repeated)} (${pct(repeatedRatio)} of the unauthenticated rate, target 80%); a new JWT on every request ${verdict(uniqueRatio >= 0.9, unique)} (${pct(uniqueRatio)} of the faster raw jwtVerify rate, target 90%).`,
    ].join('\n');
    process.stdout.write(`\n${section}\n`);
    writeDocsBlock('resource', section);
    if ((process.env.BENCH_WRITE_DOCS ?? '1') !== '0') process.stdout.write(`\nwrote the results to ${DOCS.slice(ROOT.length + 1)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err) => (log(err.message), process.exit(1)));
