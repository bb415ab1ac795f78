// RFC 6749 §6: refresh_token. The families of tokens/refresh-families.ts: rotation, the grace
// window, reuse revokes the family; the token is bound to its client; scope can only narrow.
import { errorReply, type Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import { splitScope } from '../scopes.js';
import type { OAuthDeps } from '../deps.js';
import { issueTokens } from '../issue.js';

export async function refreshTokenGrant(client: ClientRow, body: Record<string, string>, deps: OAuthDeps): Promise<Reply> {
  if (!body.refresh_token) return errorReply(400, 'invalid_request', 'Send the refresh_token.');
  let scope: string | undefined;
  if (body.scope !== undefined) {
    const names = splitScope(body.scope);
    if (!names) return errorReply(400, 'invalid_scope', 'The scope parameter is malformed.');
    scope = names.join(' ');
  }
  const outcome = await deps.families.rotate(body.refresh_token, client.client_id, scope);
  if (outcome.kind === 'invalid_scope') return errorReply(400, 'invalid_scope', 'A refresh can only narrow the scope that was granted.');
  if (outcome.kind !== 'rotated') {
    // A replay revoked the family: its opaque access tokens go too.
    if (outcome.kind === 'invalid' && outcome.reason === 'reused' && outcome.familyId) await deps.store.accessTokens.revokeFamily(outcome.familyId, deps.clock.now());
    return errorReply(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
  }
  const { family } = outcome;
  const names = outcome.scope.split(' ').filter(Boolean);
  const audience = family.audience ?? deps.scopes.audienceOf(names) ?? deps.tokens.defaultAudience;
  return (await issueTokens({ client, userId: family.user_id, scope: names, audience, authTime: family.auth_time, refresh: { token: outcome.token, familyId: family.id } }, deps)).reply;
}
