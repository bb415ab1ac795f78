// One process of test/digest-claims-processes.test.ts. It opens the shared SQLite database through the
// BUILT store (dist/) and claims every (nonce, nc) pair of the job in its own shuffled order, many
// claims in flight at once, then prints one JSON line: the pairs it won.
//
// It talks with the test by lines. It says "ready" once the store is open; on "go <time>" it waits for
// that moment (so that all the workers start together) and starts claiming. A job with `pause` says
// "half" when the first half of its claims are settled and waits for "resume". A job with `purgeNow`
// purges the Digest claims once when told "purge" (between two chunks of its claims, the others in
// flight), and says "purged".
//
// Usage: node claim-worker.mjs '<job JSON>'
//   job: { url, nonces, maxNc, expiresAt, seed, lanes, chunk, pause?, purgeNow? }
import { createInterface } from 'node:readline';

const root = new URL('../../', import.meta.url);
const { Store } = await import(new URL('dist/store/store.js', root).href);

const job = JSON.parse(process.argv[2]);

/** A small seeded PRNG (mulberry32): each worker has its own, repeatable, order. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pairs = [];
for (const nonce of job.nonces) for (let nc = 1; nc <= job.maxNc; nc++) pairs.push([nonce, nc]);
const next = random(job.seed);
for (let i = pairs.length - 1; i > 0; i--) {
  const j = Math.floor(next() * (i + 1));
  [pairs[i], pairs[j]] = [pairs[j], pairs[i]];
}

// Lines from the test: each wanted word resolves the first waiter for it (or waits for one).
const heard = [];
const waiters = [];
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const i = waiters.findIndex((w) => w.test(line.trim()));
  if (i >= 0) waiters.splice(i, 1)[0].resolve(line.trim());
  else heard.push(line.trim());
});
lines.on('close', () => waiters.splice(0).forEach((w) => w.reject(new Error('stdin closed while waiting'))));
const hear = (pattern) => {
  const i = heard.findIndex((line) => pattern.test(line));
  if (i >= 0) return Promise.resolve(heard.splice(i, 1)[0]);
  return new Promise((resolve, reject) => waiters.push({ test: (line) => pattern.test(line), resolve, reject }));
};
const say = (line) => process.stdout.write(`${line}\n`);

const store = await Store.open(job.url);
try {
  // Prepare the log's statements before the start.
  await store.digestNonces.recorded(job.nonces[0]);
  say('ready');
  const startAt = Number((await hear(/^go \d+$/)).slice(3));
  if (startAt - Date.now() > 2) await new Promise((resolve) => setTimeout(resolve, startAt - Date.now() - 2));
  while (Date.now() < startAt);

  const started = Date.now();
  const won = [];
  let purge;
  let purgeAsked = false;
  const purgeHeard = job.purgeNow === undefined ? undefined : hear(/^purge$/);
  purgeHeard?.then(() => (purgeAsked = true), () => {});
  const purgeOnce = async () => {
    purge = { start: Date.now() };
    purge.deleted = await store.digestNonces.purgeExpired(job.purgeNow);
    purge.end = Date.now();
    say('purged');
  };

  // `lanes` loops run side by side over `part`; each sends `chunk` claims at once and waits for them.
  const claimAll = async (part) => {
    let cursor = 0;
    const lane = async () => {
      while (cursor < part.length) {
        const some = part.slice(cursor, cursor + job.chunk);
        cursor += some.length;
        const results = await Promise.all(some.map(([nonce, nc]) => store.digestNonces.claim(nonce, nc, job.expiresAt)));
        some.forEach((pair, i) => results[i] && won.push(pair));
        if (purgeAsked && purge === undefined) await purgeOnce();
      }
    };
    await Promise.all(Array.from({ length: job.lanes }, lane));
  };

  const half = Math.floor(pairs.length / 2);
  await claimAll(pairs.slice(0, half));
  if (job.pause) {
    say('half');
    await hear(/^resume$/);
  }
  await claimAll(pairs.slice(half));
  if (purgeHeard && purge === undefined) {
    await purgeHeard;
    await purgeOnce();
  }
  say(JSON.stringify({ won, started, finished: Date.now(), purge }));
} finally {
  lines.close();
  process.stdin.destroy();
  await store.close();
}
