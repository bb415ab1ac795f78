// The synchronous path for a repeat of Basic credentials (Accounts.recentLogin): what it may remember
// and when it must not answer. Over real HTTP where the behaviour shows on the wire; the interleaving
// of a password change with a check in flight is driven in-process, with one store read slowed down
// so that the order is certain.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { CredentialCache } from '../src/accounts/credential-cache.js';
import { describeEachEngine } from './support/engines.js';
import { basic, request } from './support/http.js';
import { createTestDatabase, startServer, type TestDatabase, type TestServer } from './support/server.js';

const OLD = 'correct horse battery staple';
const NEW = 'a completely different passphrase';
const PATH = '/api/basic/resources';
const FAST = { 'argon2-memory': '1024', 'argon2-time': '1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cacheOf = (s: TestServer) => (s.g.accounts as unknown as { cache: CredentialCache }).cache;
const token68 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describeEachEngine('Basic: the repeat path', (engine) => {
  let db: TestDatabase;
  let s: TestServer;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
    s = await startServer(db, { flags: FAST });
    await s.addUser('Alice', OLD);
  });
  afterEach(async () => {
    await s.close();
    await db.drop();
  });

  it('remembers only the canonical spelling: variants of one credential are accepted but cannot fill the cache', async () => {
    expect((await request(s.url + PATH, { headers: { authorization: basic('Alice', OLD) } })).status).toBe(200);
    const before = cacheOf(s).size;
    // The name in other cases, the password in NFD (the same after normalisation) and the token68
    // with other padding bits (the same bytes): every one is the same credential.
    const variants = ['alice', 'ALICE', 'aLiCe', 'ALIce'].map((name) => `Basic ${token68(`${name}:${OLD}`)}`);
    const canonical = token68(`Alice:${OLD}`);
    const last = canonical.replace(/=+$/, '').at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    if (canonical.endsWith('=')) {
      const base = alphabet.indexOf(last) & ~(canonical.endsWith('==') ? 15 : 3);
      for (let bits = 1; bits < (canonical.endsWith('==') ? 16 : 4); bits++) {
        variants.push(`Basic ${canonical.replace(/.(=+)$/, `${alphabet[base + bits]}$1`)}`);
      }
    }
    for (let round = 0; round < 3; round++) {
      for (const v of variants) expect((await request(s.url + PATH, { headers: { authorization: v } })).status).toBe(200);
    }
    expect(cacheOf(s).size - before).toBeLessThanOrEqual(1);
  });

  it('an old password verified while it was being changed is not remembered under the new hash', async () => {
    const g = s.g;
    // Hold the first check in its last step (the Digest back-fill read) while the password changes.
    const repo = g.store.digestCredentials;
    const list = repo.listForUser.bind(repo);
    let slow = true;
    repo.listForUser = async (id: string) => {
      if (slow) {
        slow = false;
        await sleep(300);
      }
      return list(id);
    };
    const proof = { presented: `basic:${token68(`Alice:${OLD}`)}`, canonical: (u: string, p: string) => `basic:${token68(`${u}:${p}`)}` };
    const ip = '203.0.113.7';
    const first = g.accounts.passwordLogin('Alice', OLD, ip, { proof });
    await sleep(100);
    await g.accounts.setPassword('Alice', NEW);
    // This one reads the new row and joins the check already under way for the same credentials.
    const joined = g.accounts.passwordLogin('Alice', OLD, ip, { proof });
    expect((await first).kind).toBe('ok');
    await joined;
    expect(g.accounts.recentLogin(proof.presented, ip)).toBeUndefined();
    expect((await request(s.url + PATH, { headers: { authorization: basic('Alice', OLD) } })).status).toBe(401);
    expect((await request(s.url + PATH, { headers: { authorization: basic('Alice', NEW) } })).status).toBe(200);
  });
});
