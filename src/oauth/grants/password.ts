// RFC 6749 §4.3: the resource owner password credentials grant. Legacy (RFC 9700 §2.4: MUST NOT be
// used): only clients registered with it may use it. The shared failed-login protection applies.
import { errorReply, tooManyAttempts, type Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import { toClient } from '../clients.js';
import { grantScope, type OAuthDeps } from '../deps.js';
import { issueTokens } from '../issue.js';

export async function passwordGrant(client: ClientRow, body: Record<string, string>, ip: string, deps: OAuthDeps): Promise<Reply> {
  const { username, password } = body;
  if (!username || !password) return errorReply(400, 'invalid_request', 'Send username and password.');
  const c = toClient(client);
  const scope = grantScope(body.scope, c.scope, deps.scopes);
  if ('reply' in scope) return scope.reply;
  if (username.length > 256 || password.length > 4096) return errorReply(400, 'invalid_grant', 'The username or password is incorrect.');
  const result = await deps.accounts.passwordLogin(username, password, ip, { useCache: false });
  if (result.kind === 'wait') return tooManyAttempts(result.retryAfter);
  if (result.kind === 'fail') return errorReply(400, 'invalid_grant', 'The username or password is incorrect.');
  const refresh = c.grantTypes.includes('refresh_token');
  return (await issueTokens({ client, userId: result.user.id, scope: scope.names, audience: scope.audience, authTime: deps.clock.now(), refresh }, deps)).reply;
}
