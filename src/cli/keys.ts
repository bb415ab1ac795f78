// `gatehouse keys list|rotate|revoke`.
import type { Settings } from '../config/settings.js';
import { ensureKeys, revokeKey, rotateKeys, RotationError } from '../keys/rotation.js';
import { UsageError, type FlagKind } from './args.js';
import type { Io } from './main.js';
import { withTool } from './tool.js';

export const KEYS_FLAGS: Record<string, FlagKind> = { json: 'bool', now: 'bool' };

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());

export async function keysCommand(settings: Settings, args: string[], flags: Record<string, string | boolean>, io: Io): Promise<number> {
  const [action, kid, ...extra] = args;
  if (!action || !['list', 'rotate', 'revoke'].includes(action)) throw new UsageError('keys needs an action: list, rotate, revoke');
  if (extra.length || (action !== 'revoke' && kid)) throw new UsageError(`unexpected argument "${extra[0] ?? kid}"`);
  if (action === 'revoke' && !kid) throw new UsageError('keys revoke needs a kid (see gatehouse keys list)');
  return withTool(settings, io, [RotationError], async (g) => {
    const deps = { store: g.store, box: g.box, clock: g.clock, policy: g.keyPolicy };
    if (action === 'rotate') {
      await ensureKeys(deps);
      const r = (await rotateKeys(deps, { immediately: flags.now === true }))!;
      io.out(`key ${r.activated} signs from ${iso(r.activatesAt)}${r.retired ? `; key ${r.retired} retires then` : ''}; new next key ${r.next} is published now\n`);
      if (flags.now === true) io.err('warning: --now skips the publish delay; resource servers with a cached JWKS reject new tokens until they refetch it\n');
    } else if (action === 'revoke') {
      const r = await revokeKey(deps, kid!);
      io.out(`key ${kid} is removed: tokens it signed are no longer accepted${r.created.length ? `; new keys: ${r.created.join(', ')}` : ''}\n`);
    }
    await g.keys.reload();
    if (action === 'list') {
      const keys = g.keys.describe();
      if (flags.json === true) io.out(JSON.stringify(keys.map((k) => ({ ...k, createdAt: iso(k.createdAt), activeFrom: iso(k.activeFrom), activeUntil: iso(k.activeUntil), publishedUntil: iso(k.publishedUntil) })), null, 2) + '\n');
      else {
        if (keys.length === 0) io.out('no signing keys yet: `gatehouse serve` creates them at first start\n');
        for (const k of keys) io.out(`${k.kid}  ${k.alg.padEnd(6)} ${k.state.padEnd(8)} created ${iso(k.createdAt)}  signs ${iso(k.activeFrom)} .. ${iso(k.activeUntil)}  published until ${iso(k.publishedUntil)}\n`);
      }
    }
  });
}
