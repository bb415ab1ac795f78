// The Digest nonce epoch on SQLite. Claims of (nonce, nc) commit there without waiting for the disk
// (store/connect.ts): a process crash keeps them (they are in the WAL, which the OS writes out), an
// OS crash or power loss may not. So when the machine went down while a server was running, every
// nonce issued before must be retired: the epoch, part of every nonce's HMAC, moves on, and clients
// get stale=true and retry with a new nonce (catalogue R-11).
//
// Knowing whether the machine went down while a server ran: each server registers itself in `meta`
// with the machine's boot id and deregisters when it stops cleanly. A registration from another
// boot is a server that was running when the machine stopped. Servers of the current boot share the
// epoch: a second server started beside a running one takes the same epoch, and one of them
// stopping cleanly says nothing about the others. On PostgreSQL claims are durable at commit and
// the epoch stays 0.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';
import type { Store } from '../../store/store.js';

const NONCE_EPOCH = 'digest_nonce_epoch';
const INSTANCE = 'digest_instance:';
/** Set once servers register; before, one record said that the last stop was clean. */
const REGISTRY = 'digest_instance_registry';
const LEGACY_CLEAN_SHUTDOWN = 'clean_shutdown';

export interface Registration {
  epoch: number;
  /** Deregister (a clean stop). */
  release(): Promise<void>;
}

/** Linux's boot id; elsewhere the boot time to the minute. */
export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `booted-${Math.round((Date.now() - uptime() * 1000) / 60_000)}`;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The epoch a server uses, registering it (SQLite). A tool (the CLI) only reads the epoch. */
export async function registerForNonceEpoch(store: Store, role: 'server' | 'tool', boot = bootId()): Promise<Registration> {
  const none: Registration = { epoch: 0, release: async () => {} };
  if (store.engine !== 'sqlite') return none;
  if (role === 'tool') return { ...none, epoch: Number((await store.meta.get(NONCE_EPOCH)) ?? 0) };
  const key = `${INSTANCE}${randomUUID()}`;
  const epoch = await store.transaction(async (tx) => {
    const stored = await tx.meta.get(NONCE_EPOCH);
    let epoch = stored === undefined ? 0 : Number(stored);
    const registered = await tx.meta.withPrefix(INSTANCE);
    let machineStopped = false;
    for (const entry of registered) {
      const { boot: theirs, pid } = JSON.parse(entry.value) as { boot: string; pid: number };
      if (theirs !== boot) machineStopped = true;
      // Gone: from another boot, or a crashed process of this one (its claims are safe in the WAL).
      if (theirs !== boot || !processAlive(pid)) await tx.meta.remove(entry.key);
    }
    // Upgrading from the single clean-stop record: no record means the last stop was not clean.
    const legacy = stored !== undefined && (await tx.meta.get(REGISTRY)) === undefined && (await tx.meta.get(LEGACY_CLEAN_SHUTDOWN)) === undefined;
    if (machineStopped || legacy) epoch++;
    await tx.meta.remove(LEGACY_CLEAN_SHUTDOWN);
    await tx.meta.put(REGISTRY, '1');
    await tx.meta.put(NONCE_EPOCH, String(epoch));
    await tx.meta.put(key, JSON.stringify({ boot, pid: process.pid, since: Date.now() }));
    return epoch;
  });
  return { epoch, release: () => store.meta.remove(key) };
}
