// POST /auth/logout: { refresh_token } → that login's family is revoked. Like RFC 7009 the answer is
// the same whether or not the token was known.
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import { field, JWT_LOGIN_CLIENT, type JwtLoginDeps } from './deps.js';

export async function logout(body: unknown, deps: JwtLoginDeps): Promise<Reply> {
  const presented = field(body, 'refresh_token');
  if (typeof presented !== 'string' || presented === '') return errorReply(400, 'invalid_request', 'Send the refresh_token to log out.');
  await deps.families.revoke(presented, JWT_LOGIN_CLIENT);
  return { status: 200, headers: { 'cache-control': 'no-store' }, body: { status: 'logged_out' } };
}
