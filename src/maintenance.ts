// Periodic upkeep of a running server: pick up key changes made elsewhere, rotate keys when the
// automatic interval has passed, and purge what has expired. Each step is safe to run on every
// instance at once.
import type { Gatehouse } from './gatehouse.js';
import { rotateKeys } from './keys/rotation.js';
import { CHANGE_LOG_KEEP_MS } from './store/change-log.js';

export const MAINTENANCE_INTERVAL_MS = 30_000;

export async function maintain(g: Gatehouse): Promise<void> {
  const now = g.clock.now();
  const interval = g.settings.keyRotationInterval * 1000;
  if (interval > 0) await rotateKeys({ store: g.store, box: g.box, clock: g.clock, policy: g.keyPolicy }, { dueBefore: now - interval });
  await g.keys.reload();
  // A claim is written moments after its nonce was found unexpired: its pairs are kept a minute longer.
  await g.store.digestNonces.purgeExpired(now - 60_000);
  await g.store.signingKeys.purgeUnpublished(now);
  await g.store.refreshTokens.purgeExpired(now);
  await g.sessions.purgeExpired(now);
  await g.store.accessTokens.purgeExpired(now);
  // A session lives at most GATEHOUSE_SESSION_ABSOLUTE_TTL: its record of signed-in clients no longer.
  await g.store.sessionClients.purgeOlderThan(now - g.settings.sessionAbsoluteTtl * 1000);
  // Used codes are kept a day past expiry, so that a late replay still revokes what they issued.
  await g.store.authorizationCodes.purgeExpired(now - 86_400_000);
  await g.store.changeLog.purge(Date.now() - CHANGE_LOG_KEEP_MS);
}

/** Run `maintain` every interval until stopped. Failures (a database outage) wait for the next turn.
 * The returned stop waits for a run under way, so that a stop never closes the store under it. */
export function startMaintenance(g: Gatehouse, onError: (err: unknown) => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = maintain(g)
      .catch(onError)
      .finally(() => (running = undefined));
  }, MAINTENANCE_INTERVAL_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
