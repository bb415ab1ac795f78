// Failed-login protection over real HTTP, on both engines: catalogue §4.10 (RL-01, RL-02, RL-04, RL-05,
// RL-07, RL-10, RL-11) and the per-address limit. Time moves only through a ManualClock. Each test has
// its own database, because the per-address counter (all requests come from 127.0.0.1) is shared by
// every account of a database.
import { expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { answer, parseChallenges } from './support/digest-client.js';
import { describeEachEngine, type EngineName } from './support/engines.js';
import { withServer } from './support/alice-server.js';
import { basic, request, type RawResponse } from './support/http.js';
import { createTestDatabase, startOne, startServer, type TestServer } from './support/server.js';
import { DIGEST_PATH, FAST_ARGON2, comparable, expectBasicChallenge, getBasic } from './support/basic-extra.js';

const PW = 'correct horse battery staple';
const WRONG = 'not the right password';
type Flags = Record<string, string | boolean>;

/** A 429 with Retry-After in whole seconds and a JSON body; returns Retry-After. */
function expect429(r: RawResponse): number {
  expect(r.status).toBe(429);
  expect(r.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.json()).toMatchObject({ error: 'too_many_attempts' });
  return Number(r.headers['retry-after']);
}


const wrong = (s: TestServer, user = 'alice') => getBasic(s.url, basic(user, WRONG));
const right = (s: TestServer) => getBasic(s.url, basic('alice', PW));

/** The account's run of failures is over: three wrong passwords are free again, then the right one works. */
async function expectNoFailuresOnRecord(s: TestServer): Promise<void> {
  for (let i = 0; i < 3; i++) expectBasicChallenge(await wrong(s));
  expect((await right(s)).status).toBe(200);
}

/** A Digest answer from a fresh challenge (SHA-256). */
async function digest(s: TestServer, password: string): Promise<RawResponse> {
  const first = await request(`${s.url}${DIGEST_PATH}`);
  const ch = parseChallenges(first.all('www-authenticate')).find((c) => c.algorithm === 'SHA-256')!;
  const a = answer(ch, { username: 'alice', password, uri: DIGEST_PATH });
  return request(`${s.url}${DIGEST_PATH}`, { headers: { authorization: a.header } });
}

describeEachEngine('login throttle', (engine) => {
  it('RL-01/RL-07: three free failures, the 4th is answered 401, then 429 with Retry-After even for the right password', async () => {
    await withServer(engine, {}, async (s, clock) => {
      for (let i = 0; i < 4; i++) expectBasicChallenge(await wrong(s));
      const blockedWrong = await wrong(s);
      expect(expect429(blockedWrong)).toBe(1);
      const blockedRight = await right(s);
      expect(expect429(blockedRight)).toBe(1);
      expect(comparable(blockedRight)).toEqual(comparable(blockedWrong)); // never reveals correctness
      clock.advance(999);
      expect429(await right(s));
      clock.advance(1);
      expect((await right(s)).status).toBe(200);
      // RL-05: the success ends the run of failures: three more are free again.
      await expectNoFailuresOnRecord(s);
    });
  });

  it('RL-01: the wait doubles with each further failure, up to --lockout-max-delay', async () => {
    await withServer(engine, { 'lockout-max-delay': '5' }, async (s, clock) => {
      for (let i = 0; i < 3; i++) expectBasicChallenge(await wrong(s));
      const waits: number[] = [];
      for (let i = 0; i < 5; i++) {
        expectBasicChallenge(await wrong(s));
        const wait = expect429(await wrong(s));
        waits.push(wait);
        clock.advance(wait * 1000);
      }
      expect(waits).toEqual([1, 2, 4, 5, 5]);
    });
  });

  it('RL-04: after --lockout-hard-limit failures the right password gets the wrong-password answer until unlock', async () => {
    await withServer(engine, { 'lockout-hard-limit': '5', 'lockout-max-delay': '1' }, async (s, clock) => {
      const lock = async () => {
        for (let i = 0; i < 5; i++) {
          expectBasicChallenge(await wrong(s));
          clock.advance(1000);
        }
      };
      await lock();
      const lockedRight = await right(s);
      clock.advance(1000);
      const lockedWrong = await wrong(s);
      clock.advance(1000);
      expect(lockedRight.status).toBe(401);
      expect(comparable(lockedRight)).toEqual(comparable(lockedWrong));
      await s.g.accounts.unlock('alice'); // what `gatehouse user unlock alice` does
      expect((await right(s)).status).toBe(200);

      await lock();
      expectBasicChallenge(await right(s));
      clock.advance(1000);
      await s.g.accounts.setPassword('alice', 'a brand new passphrase');
      expect((await getBasic(s.url, basic('alice', 'a brand new passphrase'))).status).toBe(200);
    });
  });

  it('RL-04: a hard lock lasts until unlock, also past --lockout-reset-after', async () => {
    await withServer(engine, { 'lockout-hard-limit': '5', 'lockout-max-delay': '1', 'lockout-reset-after': '60' }, async (s, clock) => {
      for (let i = 0; i < 5; i++) {
        expectBasicChallenge(await wrong(s));
        clock.advance(1000);
      }
      expectBasicChallenge(await right(s));
      clock.advance(61_000);
      expectBasicChallenge(await right(s));
    });
  });

  it('limits failures per client address over many accounts, until --ip-failure-window has passed', async () => {
    await withServer(engine, { 'ip-failure-limit': '5', 'ip-failure-window': '600' }, async (s, clock) => {
      for (const user of ['u1', 'u2', 'alice', 'u3', 'u4']) expectBasicChallenge(await wrong(s, user));
      expect(expect429(await right(s))).toBe(600);
      expect(expect429(await wrong(s, 'someone-else'))).toBe(600);
      // X-Forwarded-For is not trusted by default, so it does not move the client to another address.
      expect429(await getBasic(s.url, basic('alice', PW), { 'x-forwarded-for': '198.51.100.7' }));
      clock.advance(599_000);
      expect(expect429(await right(s))).toBe(1);
      clock.advance(1000);
      expect((await right(s)).status).toBe(200);
      expectBasicChallenge(await wrong(s, 'u5'));
    });
  });

  it('counts malformed Basic credentials toward the per-address limit', async () => {
    await withServer(engine, { 'ip-failure-limit': '5' }, async (s) => {
      for (let i = 0; i < 5; i++) expectBasicChallenge(await getBasic(s.url, 'Basic !!!'));
      expect429(await right(s));
    });
  });

  it('RL-02: Basic and Digest failures count toward the same account', async () => {
    await withServer(engine, {}, async (s, clock) => {
      expectBasicChallenge(await wrong(s));
      expect((await digest(s, WRONG)).status).toBe(401);
      expectBasicChallenge(await wrong(s));
      expect((await digest(s, WRONG)).status).toBe(401);
      expect(expect429(await right(s))).toBe(1);
      expect(expect429(await digest(s, PW))).toBe(1);
      clock.advance(1000);
      expect((await digest(s, PW)).status).toBe(200);
      // The Digest success reset the shared counter: three Basic failures are free again.
      await expectNoFailuresOnRecord(s);
    });
  });

  it('RL-10: failures spread round-robin over two instances block the account on both', async () => {
    const clock = new ManualClock();
    const db = await createTestDatabase(engine);
    const a = await startServer(db, { clock, flags: FAST_ARGON2 });
    const b = await startServer(db, { clock, flags: FAST_ARGON2 });
    try {
      await a.addUser('alice', PW);
      for (const srv of [a, b, a, b]) expectBasicChallenge(await wrong(srv));
      expect(expect429(await right(a))).toBe(1);
      expect(expect429(await right(b))).toBe(1);
      clock.advance(1000);
      expect((await right(b)).status).toBe(200);
      for (const srv of [a, b, a]) expectBasicChallenge(await wrong(srv));
      expect((await right(a)).status).toBe(200);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it('RL-07/RL-10: a burst of parallel guesses gets no more password checks than sequential guesses', async () => {
    // Default argon2 cost on purpose: the checks queue behind the hashing concurrency cap.
    await withServer(engine, { 'argon2-memory': '19456', 'argon2-time': '2' }, async (s) => {
      const burst = await Promise.all(Array.from({ length: 16 }, (_, i) => getBasic(s.url, basic('alice', `${WRONG} ${i}`))));
      const statuses = burst.map((r) => r.status);
      expect(statuses.every((st) => st === 401 || st === 429)).toBe(true);
      // Sequentially, 4 guesses are checked (3 free failures and the one that starts the wait).
      expect(statuses.filter((st) => st === 401).length).toBeLessThanOrEqual(4);
    });
  });

  it('a burst of parallel requests with the RIGHT password all succeed, even with no cached credential', async () => {
    await withServer(engine, { 'credential-cache-ttl': '0' }, async (s) => {
      const burst = await Promise.all(Array.from({ length: 16 }, () => right(s)));
      expect(burst.map((r) => r.status)).toEqual(Array(16).fill(200));
      // And the account has no failures on record afterwards: 3 wrong ones are still free.
      await expectNoFailuresOnRecord(s);
    });
  });

  it('RL-11: a restart keeps the counters', async () => {
    const clock = new ManualClock();
    const db = await createTestDatabase(engine);
    let srv = await startServer(db, { clock, flags: FAST_ARGON2 });
    try {
      await srv.addUser('alice', PW);
      for (let i = 0; i < 4; i++) expectBasicChallenge(await wrong(srv));
      await srv.close();
      srv = await startServer(db, { clock, flags: FAST_ARGON2 });
      expect(expect429(await right(srv))).toBe(1);
      clock.advance(1000);
      expect((await right(srv)).status).toBe(200);
    } finally {
      await srv.close();
      await db.drop();
    }
  });

  it('throttles an unknown username exactly like a known one', async () => {
    await withServer(engine, {}, async (s, clock) => {
      const run = async (user: string) => {
        const seen = [];
        for (let i = 0; i < 4; i++) seen.push(comparable(await wrong(s, user)));
        for (let i = 0; i < 3; i++) {
          const blocked = await wrong(s, user);
          seen.push(comparable(blocked));
          clock.advance(Number(blocked.headers['retry-after'] ?? 0) * 1000);
          seen.push(comparable(await wrong(s, user)));
        }
        return seen;
      };
      const known = await run('alice');
      const unknown = await run('nobody-at-all');
      expect(known.map((r) => r.status)).toEqual([401, 401, 401, 401, 429, 401, 429, 401, 429, 401]);
      expect(unknown).toEqual(known);
    });
  });

  it('counts failures under any letter case of the name toward the same account', async () => {
    await withServer(engine, {}, async (s) => {
      for (const user of ['alice', 'ALICE', 'Alice', 'aLiCe']) expectBasicChallenge(await wrong(s, user));
      expect429(await right(s));
    });
  });

  it('--throttle false turns it off: many failures, never 429', async () => {
    await withServer(engine, { throttle: false, 'ip-failure-limit': '1', 'lockout-hard-limit': '1' }, async (s) => {
      for (let i = 0; i < 12; i++) expectBasicChallenge(await wrong(s, i % 2 ? 'alice' : `user${i}`));
      expect((await right(s)).status).toBe(200);
      expect((await digest(s, PW)).status).toBe(200);
    });
  });
});

describeEachEngine('failed-login counters in the caches', (engine) => {
  it("a failure from one address re-reads what that address's counter was cached for, and nothing else", async () => {
    const s = await startOne(engine, { flags: { 'ip-failure-limit': '1' } });
    try {
      const t = s.g.throttle;
      await t.check('bob', '10.0.0.2');
      await t.check('carol', '10.0.0.1');
      expect([t.isClearNow('bob', '10.0.0.2'), t.isClearNow('carol', '10.0.0.1')]).toEqual([true, true]);
      // A malformed credential from 10.0.0.1 counts against that address only.
      await t.failureFromAddress('10.0.0.1');
      // Verdicts read with 10.0.0.1's counter must be read again; bob from 10.0.0.2 is untouched (a
      // failure anywhere used to empty every account's cached verdicts and credentials).
      expect(t.isClearNow('carol', '10.0.0.1')).toBe(false);
      expect(t.isClearNow('bob', '10.0.0.2')).toBe(true);
      // Read again, the address is at its limit (1 here): carol from 10.0.0.1 waits, bob does not.
      expect(await t.check('carol', '10.0.0.1')).toMatchObject({ kind: 'wait' });
      expect(await t.check('bob', '10.0.0.2')).toMatchObject({ kind: 'open', hasFailures: false });
    } finally {
      await s.close();
    }
  });
});
