#!/usr/bin/env node
// The crypto limit for bench/resource-compare.mjs: jose's jwtVerify on real access tokens, in a loop,
// in a process of its own (nothing else runs in it). The key comes from the issuer's JWKS, imported
// once, as the resource server holds it.
//
//   node bench/resource-jwtverify.mjs @spec.json
//   spec: { jwksUri, issuer, audience, tokensFile, duration, warmup, concurrency }
//
// `concurrency` loops run at once (jose verifies with Web Crypto, whose work runs off the event
// loop, so one loop alone would leave the second core idle). Prints one JSON line: verifies/s, and
// the CPU time per verification (all threads) and the cores it kept busy.
import { readFileSync } from 'node:fs';
import { importJWK, jwtVerify, decodeProtectedHeader } from 'jose';

const spec = JSON.parse(readFileSync(process.argv[2].replace(/^@/, ''), 'utf8'));
const tokens = readFileSync(spec.tokensFile, 'utf8').split('\n').filter(Boolean);
const jwks = await (await fetch(spec.jwksUri)).json();
const keys = new Map();
for (const jwk of jwks.keys) keys.set(jwk.kid, await importJWK(jwk, jwk.alg));
const { kid, alg } = decodeProtectedHeader(tokens[0]);
const key = keys.get(kid);
if (!key) throw new Error(`the JWKS has no key ${kid}`);
const options = { algorithms: [alg], typ: 'at+jwt', issuer: spec.issuer, audience: spec.audience };

let next = 0;
async function run(ms) {
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(Array.from({ length: spec.concurrency }, async () => {
    while (performance.now() < end) {
      await jwtVerify(tokens[next++ % tokens.length], key, options);
      done++;
    }
  }));
  return done;
}
if (spec.warmup > 0) await run(spec.warmup * 1000);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const done = await run(spec.duration * 1000);
const cpu = process.cpuUsage(cpu0);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ verifiesPerSec: Math.round(done / seconds), verifies: done, seconds: Number(seconds.toFixed(2)), concurrency: spec.concurrency, alg, cpuUs: Number(((cpu.user + cpu.system) / done).toFixed(1)), cores: Number(((cpu.user + cpu.system) / 1e6 / seconds).toFixed(2)) }) + '\n');
