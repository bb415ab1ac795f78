// RFC 6749 §4.1.3: authorization_code. The code is checked (client, expiry, redirect_uri, PKCE) and
// the access token signed before the transaction; in it, a conditional update marks the code used
// (one winner, R-06), then the tokens are recorded under a family id the code keeps. A code presented
// again, or the loser of a race, gets invalid_grant, and everything the code issued is revoked
// (RFC 6749 §4.1.2, RFC 9700 §4.5); the revocation commits before the error is answered.
import { randomUUID } from 'node:crypto';
import { hashToken } from '../../crypto/tokens.js';
import { errorReply, type Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import type { Repos } from '../../store/store.js';
import type { OAuthDeps } from '../deps.js';
import { mintAccessToken, recordGrant, type Grant } from '../issue.js';
import { verifierMatches } from '../pkce.js';
import { toClient } from '../clients.js';

const invalidGrant = (why: string) => errorReply(400, 'invalid_grant', why);
const unusable = () => invalidGrant('The authorization code is invalid, expired or used.');

export async function authorizationCodeGrant(client: ClientRow, body: Record<string, string>, deps: OAuthDeps): Promise<Reply> {
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = body;
  if (!code) return errorReply(400, 'invalid_request', 'Send the code.');
  if (!redirectUri) return errorReply(400, 'invalid_request', 'Send the redirect_uri of the authorization request.');
  if (code.length > 256) return unusable();
  const hash = hashToken(code);
  /** The code was used: revoke what it issued, in the transaction that answers. */
  const replay = async (tx: Repos) => {
    const fresh = await tx.authorizationCodes.find(hash);
    if (fresh?.family_id) await tx.refreshTokens.revokeFamily(fresh.family_id, deps.clock.now(), 'code-replay');
    return unusable();
  };
  // The code's row never changes except for used_at and family_id, so it can be checked outside
  // the transaction; the conditional update in it decides who redeems.
  const row = await deps.store.authorizationCodes.find(hash);
  if (!row || row.client_id !== client.client_id) return unusable();
  if (row.used_at !== null) return deps.store.transaction(replay);
  if (row.expires_at <= deps.clock.now()) return unusable();
  if (row.redirect_uri !== redirectUri) return invalidGrant('redirect_uri differs from the authorization request.');
  if (row.code_challenge !== null) {
    if (!verifier || !verifierMatches(verifier, row.code_challenge)) return invalidGrant('The PKCE code_verifier does not match.');
  } else if (verifier !== undefined) {
    return invalidGrant('A code_verifier was sent, but the authorization request had no code_challenge.');
  }
  const scope = row.scope.split(' ').filter(Boolean);
  const grant: Grant = {
    client,
    userId: row.user_id,
    scope,
    audience: deps.scopes.audienceOf(scope) ?? deps.tokens.defaultAudience,
    authTime: row.auth_time,
    // The code records the family (or, without a refresh token, the id on the access token's row)
    // of what it issued, so that a replay can revoke it.
    refresh: toClient(client).grantTypes.includes('refresh_token') ? true : 'record',
    familyId: randomUUID(),
    sid: row.sid,
  };
  const access = await mintAccessToken(grant, deps);
  // OIDC Core §3.1.3.3: scope openid adds an ID token, with the nonce of the authorization request.
  const idToken = scope.includes('openid')
    ? await deps.idTokens.issue({ clientId: client.client_id, userId: row.user_id, authTime: row.auth_time, nonce: row.nonce, sid: row.sid, accessToken: access.token })
    : undefined;
  return deps.store.transaction(async (tx) => {
    if (!(await tx.authorizationCodes.redeem(hash, deps.clock.now(), grant.familyId!))) return replay(tx);
    const user = await tx.users.findById(row.user_id);
    if (!user || user.disabled === 1) return invalidGrant('The user of this code can no longer sign in.');
    return (await recordGrant(grant, access, deps, tx, idToken)).reply;
  });
}
