// GET /auth/me: the user an access token speaks for. Unlike a plain resource it reads the user, so a
// removed or disabled user gets 401 invalid_token at once.
import { toUser } from '../accounts/accounts.js';
import { authenticateBearer } from '../schemes/bearer/authenticate.js';
import { bearerError } from '../schemes/bearer/challenge.js';
import type { AuthRequest, Reply } from '../schemes/http-auth/replies.js';
import type { Store } from '../store/store.js';
import type { JwtLoginDeps } from './deps.js';

export async function me(req: AuthRequest, deps: JwtLoginDeps, store: Store): Promise<Reply> {
  const auth = await authenticateBearer(req, deps);
  if (!auth.ok) return auth.reply;
  const row = await store.users.findById(auth.claims.sub);
  if (!row || row.disabled === 1) return bearerError(deps.realm, 'invalid_token', 'The user of this token no longer exists or is disabled.');
  const { id, username, email, displayName, createdAt } = toUser(row);
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: { id, username, email, displayName, createdAt, client_id: auth.claims.client_id } };
}
