// Digest (nonce, nc) claims between real OS processes sharing one SQLite file: of any number of
// processes claiming the same pairs at once, exactly one wins each pair (catalogue R-06, ST-05; the
// store's half of DG-02, a replayed nc is refused), also when one of them purges expired pairs in the
// middle of the race. store.test.ts races two Store objects in one process; here each claimant is its
// own process (test/support/claim-worker.mjs, over the built dist/), so all they share is the database
// file and its write lock, and each knows the others' claims only by reading the log
// (store/sqlite-claim-log.ts).
// SQLite only: on PostgreSQL a primary key on the pair decides the races (store.test.ts covers it).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../src/store/store.js';
import { createTestDatabase, type TestDatabase } from './support/server.js';

const WORKER = fileURLToPath(new URL('./support/claim-worker.mjs', import.meta.url));
/** A worker still running after this long is killed, and the test fails. */
const WORKER_DEADLINE_MS = 20_000;

interface Job {
  url: string;
  nonces: string[];
  maxNc: number;
  expiresAt: number;
  seed: number;
  lanes: number;
  chunk: number;
  pause?: boolean;
  purgeNow?: number;
}

interface Outcome {
  won: Array<[string, number]>;
  started: number;
  finished: number;
  purge?: { start: number; end: number; deleted: number };
}

interface Worker {
  /** Resolves when the worker has said `word` (once per time said). */
  said(word: 'ready' | 'half' | 'purged'): Promise<void>;
  tell(line: string): void;
  outcome: Promise<Outcome>;
}

const children = new Set<ChildProcess>();

function startWorker(job: Job): Worker {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(job)], { stdio: 'pipe' });
  children.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const words = new Map<string, () => void>();
  const waits = new Map<string, Promise<void>>();
  for (const word of ['ready', 'half', 'purged']) waits.set(word, new Promise<void>((resolve) => words.set(word, resolve)));
  let result: string | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (words.has(line)) words.get(line)!();
    else if (line.startsWith('{')) result = line;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_DEADLINE_MS);
  const outcome = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0 && result !== undefined) resolve(JSON.parse(result) as Outcome);
      else reject(new Error(`claim worker ${job.seed} ended with ${signal ?? `code ${code}`}:\n${stderr}`));
    });
  });
  outcome.catch(() => {});
  return {
    // A worker that dies before saying the word fails the test instead of hanging it.
    said: (word) => Promise.race([waits.get(word)!, outcome.then(() => Promise.reject(new Error(`claim worker ${job.seed} ended without saying "${word}"`)))]),
    tell: (line) => void child.stdin!.write(`${line}\n`),
    outcome,
  };
}

const key = (nonce: string, nc: number) => `${nonce}:${nc}`;

describe('Digest claims across processes (SQLite)', () => {
  let db: TestDatabase;
  let store: Store;

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    store = await Store.open(db.url);
    await store.migrate();
  });
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    children.clear();
    await store.close();
    await db.drop();
  });

  it('3 processes claim the same 5,000 pairs at once, one purging midway: each pair is won exactly once', async () => {
    const now = Date.now();
    // Pairs used earlier, whose nonces have expired: the purge in the middle of the race deletes them.
    const expired = Array.from({ length: 2 }, () => randomBytes(16).toString('base64url'));
    for (const nonce of expired) {
      const wins = await Promise.all(Array.from({ length: 50 }, (_, i) => store.digestNonces.claim(nonce, i + 1, now - 60_000)));
      expect(wins.every(Boolean)).toBe(true);
    }

    const nonces = Array.from({ length: 5 }, () => randomBytes(16).toString('base64url'));
    const maxNc = 1_000;
    const expiresAt = now + 600_000;
    const all = nonces.flatMap((nonce) => Array.from({ length: maxNc }, (_, i) => key(nonce, i + 1)));
    // 8 lanes of 10 claims: up to 80 claims of each process in flight, in batches of a few dozen.
    const base = { url: db.url, nonces, maxNc, expiresAt, lanes: 8, chunk: 10 };
    const purger = startWorker({ ...base, seed: 1, purgeNow: now });
    const others = [startWorker({ ...base, seed: 2, pause: true }), startWorker({ ...base, seed: 3, pause: true })];
    const workers = [purger, ...others];
    await Promise.all(workers.map((w) => w.said('ready')));
    // All start at the same moment, a little ahead, so that none starts late because of its stdin.
    const startAt = Date.now() + 100;
    for (const w of workers) w.tell(`go ${startAt}`);
    // The purge runs after the other two settled half of their claims and before they make the rest
    // (SQLite's lock can keep a process waiting until the others are done: no timing would ensure it).
    // The purger keeps claiming meanwhile.
    await Promise.all(others.map((w) => w.said('half')));
    purger.tell('purge');
    await purger.said('purged');
    for (const w of others) w.tell('resume');
    const outcomes = await Promise.all(workers.map((w) => w.outcome));

    // Exactly one winner per pair: together the processes won every pair, and none twice.
    const won = outcomes.flatMap((o) => o.won.map(([nonce, nc]) => key(nonce, nc)));
    expect(won).toHaveLength(all.length);
    expect(new Set(won).size).toBe(all.length);
    expect(won.sort()).toEqual(all.sort());

    // The purge deleted exactly the expired pairs (it may delete no live one, nor the newest row).
    expect(outcomes[0]!.purge!.deleted).toBe(expired.length * 50);
    for (const nonce of expired) expect(await store.digestNonces.recorded(nonce)).toEqual([]);

    // This process (which last read the log before the race, and never purged) and a Store opened now
    // (which reads the log from its start) both refuse every pair.
    const fresh = await Store.open(db.url);
    try {
      for (const s of [store, fresh]) {
        const again = await Promise.all(nonces.flatMap((nonce) => Array.from({ length: maxNc }, (_, i) => s.digestNonces.claim(nonce, i + 1, expiresAt))));
        expect(again.filter(Boolean)).toHaveLength(0);
      }
    } finally {
      await fresh.close();
    }
    const counts = Array.from({ length: maxNc }, (_, i) => i + 1);
    for (const nonce of nonces) expect(await store.digestNonces.recorded(nonce)).toEqual(counts);
  });
});
