// Key rotation: next → active → retired → removed (catalogue R-09). A next key is published from
// the moment it is made and starts signing no sooner than `publishDelay` later, so resource servers
// that cache the JWKS have seen it. A retired key stays published until every token it signed has
// expired. Changes run in one transaction under the "signing-keys" lock: of several instances, one
// rotates.
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Repos, Store } from '../store/store.js';
import type { SigningKeyRow } from '../store/signing-keys.js';
import { KEYS_CHANGED } from './key-ring.js';
import { generateSigningKey, keyState, type SigningAlgorithm } from './signing-key.js';

export interface KeyPolicy {
  alg: SigningAlgorithm;
  /** How long a new key is published before it may sign. */
  publishDelayMs: number;
  /** How long a retired key stays published: the default token lifetime plus leeway, or longer
   * when a client's own token lifetime (client add --token-ttl) is longer (see retirement()). */
  retireAfterMs: number;
  /** The leeway added to a client's own token lifetime. */
  tokenLeewayMs: number;
}

/** How long a key retired now stays published: long enough for every token it signed to expire. */
async function retirement(tx: Repos, policy: KeyPolicy): Promise<number> {
  const longest = await tx.clients.longestAccessTokenTtl();
  return Math.max(policy.retireAfterMs, longest === undefined ? 0 : longest * 1000 + policy.tokenLeewayMs);
}

export class RotationError extends Error {}

const times = (r: SigningKeyRow) => ({ activeFrom: r.active_from, activeUntil: r.active_until, publishedUntil: r.published_until });
const stateOf = (r: SigningKeyRow, now: number) => keyState(times(r), now);

export interface RotationResult {
  activated: string;
  activatesAt: number;
  retired: string | undefined;
  next: string;
}

interface Deps {
  store: Store;
  box: SecretBox;
  clock: Clock;
  policy: KeyPolicy;
}

/** At start: make sure there is a key that signs and a next key published behind it. Keys are
 * created only when the table holds none; stored keys that do not decrypt stop the start before
 * this runs (see key-ring.ts). Returns the kids created. */
export async function ensureKeys(deps: Deps): Promise<string[]> {
  const spare = await spareKeys(deps);
  return deps.store.transaction(async (tx) => {
    await tx.meta.lock('signing-keys');
    return fillIn(tx, spare, deps.clock.now());
  });
}

/** Two keys made ahead of a transaction (generating one is slow; a transaction waits for nothing
 * but the database). */
async function spareKeys({ box, clock, policy }: Deps): Promise<SigningKeyRow[]> {
  return [await generateSigningKey(policy.alg, box, clock.now()), await generateSigningKey(policy.alg, box, clock.now())];
}

/** In `tx`: a key that signs and a next key published behind it, taken from `spare` as needed. */
async function fillIn(tx: Repos, spare: SigningKeyRow[], now: number): Promise<string[]> {
  const rows = (await tx.signingKeys.list()).filter((r) => stateOf(r, now) !== 'removed');
  const created: string[] = [];
  const take = async (fields: Partial<SigningKeyRow>) => {
    const row = { ...spare.shift()!, created_at: now, ...fields };
    await tx.signingKeys.insert(row);
    created.push(row.kid);
    return row;
  };
  const signing = rows.some((r) => stateOf(r, now) === 'active');
  const scheduled = rows.some((r) => r.active_from !== null && r.active_from > now);
  let unscheduled = rows.filter((r) => r.active_from === null);
  if (!signing && !scheduled) {
    // Nothing signs: first start (no resource server has cached anything yet), or every key was
    // revoked. Promote a published next key if there is one, else make one that signs now.
    const promote = unscheduled[0];
    if (promote) {
      await tx.signingKeys.setTimes(promote.kid, { active_from: now });
      unscheduled = unscheduled.slice(1);
    } else await take({ active_from: now });
  }
  if (unscheduled.length === 0) await take({});
  if (created.length || (!signing && !scheduled)) await tx.changed(KEYS_CHANGED);
  return created;
}

/** Schedule the next key to start signing, retire the active one at that moment, and publish a
 * fresh next key. `immediately` skips the publish delay (an emergency: resource servers with a
 * cached JWKS reject the new tokens until they refetch). `dueBefore` makes it conditional: rotate
 * only if the active key started signing before that time (automatic rotation). */
export async function rotateKeys({ store, box, clock, policy }: Deps, options: { immediately?: boolean; dueBefore?: number } = {}): Promise<RotationResult | undefined> {
  const spare = [await generateSigningKey(policy.alg, box, clock.now()), await generateSigningKey(policy.alg, box, clock.now())];
  return store.transaction(async (tx) => {
    await tx.meta.lock('signing-keys');
    const now = clock.now();
    const rows = await tx.signingKeys.list();
    const active = rows.filter((r) => stateOf(r, now) === 'active').sort((a, b) => b.active_from! - a.active_from!)[0];
    const scheduled = rows.find((r) => r.active_from !== null && r.active_from > now);
    if (options.dueBefore !== undefined && (scheduled || (active && active.active_from! > options.dueBefore))) return undefined;
    const retireAfterMs = await retirement(tx, policy);
    if (scheduled && options.immediately) {
      // An emergency while a rotation waits: bring it forward.
      await tx.signingKeys.setTimes(scheduled.kid, { active_from: now });
      if (active) await tx.signingKeys.setTimes(active.kid, { active_until: now, published_until: now + retireAfterMs });
      const waiting = rows.find((r) => r.active_from === null);
      await tx.changed(KEYS_CHANGED);
      return { activated: scheduled.kid, activatesAt: now, retired: active?.kid, next: waiting?.kid ?? scheduled.kid };
    }
    if (scheduled) throw new RotationError(`a rotation is already scheduled: key ${scheduled.kid} starts signing at ${new Date(scheduled.active_from!).toISOString()} (--now brings it forward)`);
    let next = rows.find((r) => r.active_from === null);
    if (!next) {
      next = { ...spare.shift()!, created_at: now };
      await tx.signingKeys.insert(next);
    }
    const activatesAt = options.immediately ? now : Math.max(now, next.created_at + policy.publishDelayMs);
    await tx.signingKeys.setTimes(next.kid, { active_from: activatesAt });
    if (active) await tx.signingKeys.setTimes(active.kid, { active_until: activatesAt, published_until: activatesAt + retireAfterMs });
    const fresh = { ...spare.shift()!, created_at: now };
    await tx.signingKeys.insert(fresh);
    await tx.changed(KEYS_CHANGED);
    return { activated: next.kid, activatesAt, retired: active?.kid, next: fresh.kid };
  });
}

/** Emergency removal: the key stops being published at once and every token it signed fails. If it
 * was signing, the next key takes over now. */
export async function revokeKey(deps: Deps, kid: string): Promise<{ created: string[] }> {
  const spare = await spareKeys(deps);
  // One transaction: no reader ever sees the key gone and no successor signing yet.
  const created = await deps.store.transaction(async (tx) => {
    await tx.meta.lock('signing-keys');
    const now = deps.clock.now();
    const rows = await tx.signingKeys.list();
    const row = rows.find((r) => r.kid === kid);
    if (!row) return undefined;
    await tx.signingKeys.remove(kid);
    const scheduled = rows.find((r) => r.active_from !== null && r.active_from > now);
    const active = rows.filter((r) => r.kid !== kid && stateOf(r, now) === 'active');
    if (stateOf(row, now) === 'active' && scheduled) await tx.signingKeys.setTimes(scheduled.kid, { active_from: now });
    // The revoked key was the one scheduled to take over: the active key keeps signing, no longer
    // retiring at that time (a later rotation schedules another).
    if (scheduled?.kid === kid) for (const a of active) await tx.signingKeys.setTimes(a.kid, { active_until: null, published_until: null });
    await tx.changed(KEYS_CHANGED);
    return fillIn(tx, spare, now);
  });
  if (!created) throw new RotationError(`no signing key with kid ${kid}`);
  return { created };
}
