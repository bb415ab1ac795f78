// One database, one server with alice (cheap argon2), a ManualClock; everything closed afterwards.
import { ManualClock } from '../../src/clock.js';
import { FAST_ARGON2 } from './basic-extra.js';
import type { EngineName } from './engines.js';
import { PW } from './jwt-login.js';
import { startOne, type TestServer } from './server.js';

export async function withServer(engine: EngineName, flags: Record<string, string | boolean>, fn: (s: TestServer, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const s = await startOne(engine, { clock, flags: { ...FAST_ARGON2, ...flags } });
  try {
    await s.addUser('alice', PW);
    await fn(s, clock);
  } finally {
    await s.close();
  }
}
