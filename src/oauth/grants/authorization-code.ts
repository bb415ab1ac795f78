// RFC 6749 §4.1.3: authorization_code. One transaction: find the code, check client, expiry,
// redirect_uri and PKCE, mark it used with a conditional update (one winner, R-06), issue the tokens
// and record their family on the code. A code presented again, or the loser of a race, gets
// invalid_grant, and everything the code issued is revoked (RFC 6749 §4.1.2, RFC 9700 §4.5); the
// revocation commits before the error is answered.
import { hashToken } from '../../crypto/tokens.js';
import { errorReply, type Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import type { OAuthDeps } from '../deps.js';
import { issueTokens } from '../issue.js';
import { verifierMatches } from '../pkce.js';
import { toClient } from '../clients.js';

const invalidGrant = (why: string) => errorReply(400, 'invalid_grant', why);

export async function authorizationCodeGrant(client: ClientRow, body: Record<string, string>, deps: OAuthDeps): Promise<Reply> {
  const { code, redirect_uri: redirectUri, code_verifier: verifier } = body;
  if (!code) return errorReply(400, 'invalid_request', 'Send the code.');
  if (!redirectUri) return errorReply(400, 'invalid_request', 'Send the redirect_uri of the authorization request.');
  if (code.length > 256) return invalidGrant('The authorization code is invalid, expired or used.');
  const hash = hashToken(code);
  return deps.store.transaction(async (tx) => {
    const row = await tx.authorizationCodes.find(hash);
    const now = deps.clock.now();
    if (!row || row.client_id !== client.client_id) return invalidGrant('The authorization code is invalid, expired or used.');
    const replay = async () => {
      const fresh = await tx.authorizationCodes.find(hash);
      if (fresh?.family_id) {
        await tx.refreshTokens.revokeFamily(fresh.family_id, now, 'code-replay');
        await tx.accessTokens.revokeFamily(fresh.family_id, now);
      }
      return invalidGrant('The authorization code is invalid, expired or used.');
    };
    if (row.used_at !== null) return replay();
    if (row.expires_at <= now) return invalidGrant('The authorization code is invalid, expired or used.');
    if (row.redirect_uri !== redirectUri) return invalidGrant('redirect_uri differs from the authorization request.');
    if (row.code_challenge !== null) {
      if (!verifier || !verifierMatches(verifier, row.code_challenge)) return invalidGrant('The PKCE code_verifier does not match.');
    } else if (verifier !== undefined) {
      return invalidGrant('A code_verifier was sent, but the authorization request had no code_challenge.');
    }
    if (!(await tx.authorizationCodes.redeem(hash, now))) return replay();
    const user = await tx.users.findById(row.user_id);
    if (!user || user.disabled === 1) return invalidGrant('The user of this code can no longer sign in.');
    const scope = row.scope.split(' ').filter(Boolean);
    const audience = deps.scopes.audienceOf(scope) ?? deps.tokens.defaultAudience;
    const refresh = toClient(client).grantTypes.includes('refresh_token') ? true : 'record';
    // A family records what this code issued, so that a replay can revoke it.
    const issued = await issueTokens({ client, userId: row.user_id, scope, audience, authTime: row.auth_time, refresh }, deps, tx);
    if (issued.familyId) await tx.authorizationCodes.setFamily(hash, issued.familyId);
    return issued.reply;
  });
}
