// `gatehouse consent list|revoke`: what a user has allowed, and withdrawing it.
import { UserNotFound } from '../accounts/accounts.js';
import type { Settings } from '../config/settings.js';
import { UsageError } from './args.js';
import type { Io } from './main.js';
import { withTool } from './tool.js';

export async function consentCommand(settings: Settings, args: string[], flags: Record<string, string | boolean>, io: Io): Promise<number> {
  const [action, username, clientId, ...extra] = args;
  if (action !== 'list' && action !== 'revoke') throw new UsageError('consent needs an action: list, revoke');
  if (!username) throw new UsageError(`consent ${action} needs a username`);
  if (action === 'revoke' && !clientId) throw new UsageError('consent revoke needs a username and a client_id');
  if (extra.length || (action === 'list' && clientId)) throw new UsageError(`unexpected argument "${extra[0] ?? clientId}"`);
  return withTool(settings, io, [UserNotFound], async (g) => {
    const user = await g.accounts.find(username);
    if (!user) throw new UserNotFound(username);
    if (action === 'list') {
      const rows = await g.store.consents.listForUser(user.id);
      if (flags.json === true) io.out(JSON.stringify(rows.map((r) => ({ client_id: r.client_id, scope: r.scope, updatedAt: new Date(r.updated_at).toISOString() })), null, 2) + '\n');
      else io.out(rows.length ? rows.map((r) => `${r.client_id}  ${r.scope}`).join('\n') + '\n' : 'no consents\n');
      return;
    }
    const now = g.clock.now();
    const removed = await g.store.transaction(async (tx) => {
      const had = await tx.consents.revoke(user.id, clientId!);
      for (const f of await tx.refreshTokens.listFamilies(user.id)) {
        if (f.client_id === clientId && f.revoked_at === null) await tx.refreshTokens.revokeFamily(f.id, now, 'consent-revoked');
      }
      return had;
    });
    io.out(removed ? `consent of ${username} for ${clientId} revoked; its refresh tokens no longer work\n` : `${username} had no consent for ${clientId}; its refresh tokens, if any, are revoked\n`);
  });
}
