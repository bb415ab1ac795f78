// RFC 6749 §4.4: client_credentials. Confidential clients only; the token's subject is the client;
// no refresh token (§4.4.3).
import { errorReply, type Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import { toClient } from '../clients.js';
import { grantScope, type OAuthDeps } from '../deps.js';
import { issueTokens } from '../issue.js';

export async function clientCredentialsGrant(client: ClientRow, body: Record<string, string>, deps: OAuthDeps): Promise<Reply> {
  if (client.type !== 'confidential') return errorReply(400, 'unauthorized_client', 'Only confidential clients may use client_credentials.');
  const scope = grantScope(body.scope, toClient(client).scope, deps.scopes);
  if ('reply' in scope) return scope.reply;
  if (scope.names.some((n) => deps.scopes.get(n)?.oidc)) return errorReply(400, 'invalid_scope', 'OpenID Connect scopes need a user: client_credentials has none.');
  return (await issueTokens({ client, userId: undefined, scope: scope.names, audience: scope.audience, authTime: undefined, refresh: false }, deps)).reply;
}
