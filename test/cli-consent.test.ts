// `gatehouse consent list|revoke` on both engines, run in-process through main(): a revoked consent is
// asked again, and the client's refresh tokens for that user stop working.
import { afterEach, expect, it } from 'vitest';
import { main, type Io } from '../src/cli/main.js';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import { PW } from './support/jwt-login.js';
import { startOne, type TestDatabase, type TestServer } from './support/server.js';

async function cli(db: TestDatabase, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t), readStdin: () => '', stdinIsTty: false };
  const code = await main([...args, '--database-url', db.url, '--data-dir', db.dataDir, '--secret-key', db.secretKey, '--log-level', 'silent'], io);
  return { code, out, err };
}

describeEachEngine('gatehouse consent', (engine) => {
  let s: (TestServer & { db: TestDatabase }) | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('lists what a user allowed; revoke withdraws it and ends that client\'s refresh families only', async () => {
    s = await startOne(engine, { flags: { ...FAST_ARGON2 } });
    const alice = await s.g.accounts.create({ username: 'alice', password: PW });
    for (const id of ['web', 'other']) await s.g.clients.create({ clientId: id, grantTypes: ['authorization_code', 'refresh_token'], redirectUris: ['https://app.example/cb'] });
    const now = s.g.clock.now();
    await s.g.store.consents.grant(alice.id, 'web', 'api', now);
    await s.g.store.consents.grant(alice.id, 'other', 'api', now);
    const web = await s.g.refreshFamilies.start({ userId: alice.id, clientId: 'web', scope: 'api', authTime: now });
    const other = await s.g.refreshFamilies.start({ userId: alice.id, clientId: 'other', scope: 'api', authTime: now });

    const listed = await cli(s.db, ['consent', 'list', 'alice']);
    expect(listed).toMatchObject({ code: 0, err: '' });
    expect(listed.out).toBe('other  api\nweb  api\n');

    const revoked = await cli(s.db, ['consent', 'revoke', 'alice', 'web']);
    expect(revoked).toMatchObject({ code: 0, err: '' });
    expect(revoked.out).toMatch(/consent of alice for web revoked/);
    expect(await s.g.store.consents.find(alice.id, 'web')).toBeUndefined();
    expect(await s.g.store.consents.find(alice.id, 'other')).toBeDefined();
    expect(await s.g.refreshFamilies.rotate(web.token, 'web')).toEqual({ kind: 'invalid', reason: 'revoked' });
    expect((await s.g.refreshFamilies.rotate(other.token, 'other')).kind).toBe('rotated');

    const json = await cli(s.db, ['consent', 'list', 'alice', '--json']);
    expect(JSON.parse(json.out)).toEqual([{ client_id: 'other', scope: 'api', updatedAt: new Date(now).toISOString() }]);
    expect(await cli(s.db, ['consent', 'list', 'nobody'])).toMatchObject({ code: 1, err: 'gatehouse: no user named "nobody"\n' });
    expect((await cli(s.db, ['consent', 'revoke', 'alice'])).code).toBe(2);
  });
});
