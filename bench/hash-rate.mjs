#!/usr/bin/env node
// The crypto limit of a password login: argon2id verifications per second with Gatehouse's
// parameters and concurrency, nothing else. `npm run bench` prints logins/s next to this figure.
//   node bench/hash-rate.mjs   (env: BENCH_HASH_SECONDS, default 5; GATEHOUSE_ARGON2_* as the server)
import argon2 from 'argon2';

const env = (name, fallback) => Number(process.env[name] || fallback);
const seconds = env('BENCH_HASH_SECONDS', 5);
const options = { type: argon2.argon2id, memoryCost: env('GATEHOUSE_ARGON2_MEMORY', 19456), timeCost: env('GATEHOUSE_ARGON2_TIME', 2), parallelism: env('GATEHOUSE_ARGON2_PARALLELISM', 1) };
const concurrency = env('GATEHOUSE_ARGON2_CONCURRENCY', 4);
const hash = await argon2.hash('bench password', options);
let done = 0;
const end = performance.now() + seconds * 1000;
const worker = async () => {
  while (performance.now() < end) {
    await argon2.verify(hash, 'bench password');
    done++;
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ verifiesPerSec: Number((done / elapsed).toFixed(1)), concurrency, ...options, type: 'argon2id' }) + '\n');
