#!/usr/bin/env node
// The load side of bench/resource-compare.mjs, in its own process: autocannon against the example
// resource server, with no token, one token on every request, or a different token on each request.
//
//   node bench/resource-load.mjs @spec.json
//   spec: { url, tokensFile?, token?, duration, warmup, connections }
//
// With tokensFile each request takes the next token of the file, once (warm-up included): the
// server never sees a token twice, so every request pays a signature check. Every response must be
// 200; anything else is an error. Prints one JSON line (with the requests of the warm-up and this
// process's own CPU time per request, so the caller can share out the machine).
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

const spec = JSON.parse(readFileSync(process.argv[2].replace(/^@/, ''), 'utf8'));
const tokens = spec.tokensFile ? readFileSync(spec.tokensFile, 'utf8').split('\n').filter(Boolean) : undefined;
let next = 0;
let ranOut = 0;
const headers = spec.token ? { authorization: `Bearer ${spec.token}` } : {};
const requests = tokens
  ? [{ method: 'GET', setupRequest: (req) => {
      if (next >= tokens.length) ranOut++;
      return { ...req, headers: { authorization: `Bearer ${tokens[Math.min(next++, tokens.length - 1)]}` } };
    } }]
  : undefined;
const run = (duration) => autocannon({ url: spec.url, method: 'GET', headers, ...(requests ? { requests } : {}), connections: spec.connections, duration, pipelining: 1, timeout: 10 });
const warm = spec.warmup > 0 ? (await run(spec.warmup)).requests.total : 0;
const before = next;
const cpu0 = process.cpuUsage();
const r = await run(spec.duration);
const cpu = process.cpuUsage(cpu0);
const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
const unexpected = Object.entries(statuses).filter(([k]) => k !== '200').reduce((n, [, c]) => n + c, 0);
process.stdout.write(JSON.stringify({
  requestsPerSec: Number((r.requests.total / r.duration).toFixed(1)),
  requests: r.requests.total,
  seconds: r.duration,
  p50: r.latency.p50,
  p99: r.latency.p99,
  statuses,
  errors: unexpected + r.errors + r.timeouts + ranOut,
  warmupRequests: warm,
  /** CPU time of this load process per measured request, in microseconds. */
  loadCpuUs: Number(((cpu.user + cpu.system) / Math.max(1, r.requests.total)).toFixed(1)),
  ...(tokens ? { tokensUsed: next - before, tokensLeft: Math.max(0, tokens.length - next), ranOut } : {}),
}) + '\n');
