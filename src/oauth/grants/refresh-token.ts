// RFC 6749 §6: refresh_token. The families of tokens/refresh-families.ts: rotation, the grace
// window, reuse revokes the family; the token is bound to its client; scope can only narrow.
// The next access token is signed before the rotation's transaction (from an unlocked read of the
// family, whose user, audience and auth_time never change) and recorded in it.
import { errorReply, type Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import type { RefreshFamilyRow } from '../../store/refresh-tokens.js';
import { splitScope } from '../scopes.js';
import type { OAuthDeps } from '../deps.js';
import { mintAccessToken, recordGrant, type Grant, type MintedAccess } from '../issue.js';

export async function refreshTokenGrant(client: ClientRow, body: Record<string, string>, deps: OAuthDeps): Promise<Reply> {
  if (!body.refresh_token) return errorReply(400, 'invalid_request', 'Send the refresh_token.');
  let scope: string | undefined;
  if (body.scope !== undefined) {
    const names = splitScope(body.scope);
    if (!names) return errorReply(400, 'invalid_scope', 'The scope parameter is malformed.');
    scope = names.join(' ');
  }
  const grantOf = (family: RefreshFamilyRow, granted: string): Omit<Grant, 'refresh'> => {
    const names = granted.split(' ').filter(Boolean);
    return { client, userId: family.user_id, scope: names, audience: family.audience ?? deps.scopes.audienceOf(names) ?? deps.tokens.defaultAudience, authTime: family.auth_time };
  };
  const peeked = await deps.families.peek(body.refresh_token);
  // OIDC Core §12.2: a refresh of an openid grant returns a new ID token: same iss, sub, aud and
  // auth_time, a new iat, no nonce.
  const idTokenFor = (family: RefreshFamilyRow, granted: string, access: MintedAccess) =>
    granted.split(' ').includes('openid') ? deps.idTokens.issue({ clientId: client.client_id, userId: family.user_id, authTime: family.auth_time, sid: family.sid, accessToken: access.token }) : undefined;
  let early: { access: MintedAccess; scope: string; idToken: string | undefined } | undefined;
  if (peeked && peeked.client_id === client.client_id && peeked.revoked_at === null) {
    const granted = scope ?? peeked.scope;
    const access = await mintAccessToken(grantOf(peeked, granted), deps);
    early = { access, scope: granted, idToken: await idTokenFor(peeked, granted, access) };
  }
  let reply: Reply | undefined;
  const outcome = await deps.families.rotate(body.refresh_token, client.client_id, scope, async (rotated, tx) => {
    if (!early || early.scope !== rotated.scope) return;
    const grant = { ...grantOf(rotated.family, rotated.scope), refresh: { token: rotated.token, familyId: rotated.family.id } };
    reply = (await recordGrant(grant, early.access, deps, tx, early.idToken)).reply;
  });
  if (outcome.kind === 'invalid_scope') return errorReply(400, 'invalid_scope', 'A refresh can only narrow the scope that was granted.');
  // A replay revoked the family and its recorded access tokens before this answer.
  if (outcome.kind !== 'rotated') return errorReply(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
  if (reply) return reply;
  // Not signed early (the family was not readable before the rotation): issue now.
  const grant = { ...grantOf(outcome.family, outcome.scope), refresh: { token: outcome.token, familyId: outcome.family.id } };
  const access = await mintAccessToken(grant, deps);
  const idToken = await idTokenFor(outcome.family, outcome.scope, access);
  return (await deps.store.transaction((tx) => recordGrant(grant, access, deps, tx, idToken))).reply;
}
