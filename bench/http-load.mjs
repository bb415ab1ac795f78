#!/usr/bin/env node
// One fixed request, repeated by autocannon, in its own process: node bench/http-load.mjs '<json spec>'
// spec: { url, method, headers, body, expect, duration, connections, warmup }. Prints one JSON line:
// requests/s, latency, and how many responses were not the expected status.
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2]);
const run = (duration) => autocannon({ url: spec.url, method: spec.method ?? 'GET', headers: spec.headers ?? {}, body: spec.body, connections: spec.connections ?? 16, duration, pipelining: 1, timeout: 10 });
if (spec.warmup > 0) await run(spec.warmup);
const r = await run(spec.duration ?? 10);
const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
const unexpected = Object.entries(statuses).filter(([k]) => Number(k) !== (spec.expect ?? 200)).reduce((n, [, c]) => n + c, 0);
process.stdout.write(JSON.stringify({ requestsPerSec: Number((r.requests.total / r.duration).toFixed(1)), p50: r.latency.p50, p99: r.latency.p99, statuses, errors: unexpected + r.errors + r.timeouts }) + '\n');
