#!/usr/bin/env node
// One fixed request, repeated by autocannon, in its own process: node bench/http-load.mjs '<json spec>'
// spec: { url, method, headers, body, bodies, expect, duration, connections, warmup }. With `bodies`,
// each request takes the next one (single-use values such as authorization codes). Prints one JSON
// line: requests/s, latency, and how many responses were not the expected status.
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

// The spec, or @path of a file holding it (large ones: a list of single-use bodies).
const arg = process.argv[2];
const spec = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
let next = 0;
const requests = spec.bodies ? [{ method: spec.method, setupRequest: (req) => ({ ...req, body: spec.bodies[Math.min(next++, spec.bodies.length - 1)] }) }] : undefined;
const run = (duration) => autocannon({ url: spec.url, method: spec.method ?? 'GET', headers: spec.headers ?? {}, body: spec.body, ...(requests ? { requests } : {}), connections: spec.connections ?? 16, duration, pipelining: 1, timeout: 10 });
if (spec.warmup > 0) await run(spec.warmup);
const r = await run(spec.duration ?? 10);
const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
const unexpected = Object.entries(statuses).filter(([k]) => Number(k) !== (spec.expect ?? 200)).reduce((n, [, c]) => n + c, 0);
if (spec.bodies && next > spec.bodies.length) process.stderr.write(`http-load: ran out of bodies (${spec.bodies.length}); later requests repeated the last\n`);
process.stdout.write(JSON.stringify({ requestsPerSec: Number((r.requests.total / r.duration).toFixed(1)), p50: r.latency.p50, p99: r.latency.p99, statuses, errors: unexpected + r.errors + r.timeouts }) + '\n');
