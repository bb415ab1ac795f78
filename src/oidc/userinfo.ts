// OpenID Connect Core §5.3: the UserInfo endpoint. GET or POST; the access token in the
// Authorization header (RFC 6750 §2.1) or, on a form POST only, in the body (§2.2), never both and
// never in the URL. The token must be live (JWT or opaque, not revoked, its user active) and carry
// scope openid; the answer is `sub` plus the claims of the token's scopes. Errors are RFC 6750 §3
// challenges: 401 invalid_token, 403 insufficient_scope, 400 invalid_request.
import { hashToken, looksLikeToken } from '../crypto/tokens.js';
import { extractBearer } from '../schemes/bearer/authenticate.js';
import { bearerError } from '../schemes/bearer/challenge.js';
import type { AuthRequest, Reply } from '../schemes/http-auth/replies.js';
import { InvalidAccessToken } from '../tokens/access-token.js';
import { findAccessToken, jwtStillActive, type OAuthDeps } from '../oauth/deps.js';
import { opaqueTokenActive } from '../oauth/introspection.js';
import { userClaims } from './claims.js';

export interface UserinfoRequest extends AuthRequest {
  /** The parsed body of a form POST. */
  form: Record<string, string> | undefined;
}

const INVALID = 'The access token is invalid, expired or revoked.';

function tokenOf(req: UserinfoRequest, realm: string): { token: string } | { reply: Reply } {
  const inBody = req.method === 'POST' ? req.form?.access_token : undefined;
  if (inBody !== undefined) {
    if (req.authorization.length > 0) return { reply: bearerError(realm, 'invalid_request', 'Send the access token one way only.') };
    return inBody ? { token: inBody } : { reply: bearerError(realm, 'invalid_request', 'access_token is empty.') };
  }
  return extractBearer(req, realm);
}

export async function userinfoEndpoint(req: UserinfoRequest, deps: OAuthDeps, realm: string): Promise<Reply> {
  const got = tokenOf(req, realm);
  if ('reply' in got) return got.reply;
  let sub: string;
  let scope: string[];
  if (looksLikeToken(got.token)) {
    const row = await findAccessToken(deps, hashToken(got.token));
    if (!row || row.user_id === null || !(await opaqueTokenActive(deps, row))) return bearerError(realm, 'invalid_token', INVALID);
    sub = row.user_id;
    scope = row.scope.split(' ');
  } else {
    try {
      const claims = await deps.tokens.verifyAnyAudience(got.token, deps.scopes.audiences());
      if (!(await jwtStillActive(deps, got.token, claims.client_id))) return bearerError(realm, 'invalid_token', INVALID);
      // A client's own token (client_credentials) has no user behind it.
      if (claims.sub === claims.client_id) return bearerError(realm, 'invalid_token', 'This access token was issued to a client, not for a user.');
      sub = claims.sub;
      scope = (claims.scope ?? '').split(' ');
    } catch (err) {
      if (err instanceof InvalidAccessToken) return bearerError(realm, 'invalid_token', err.message);
      throw err;
    }
  }
  if (!scope.includes('openid')) return bearerError(realm, 'insufficient_scope', 'UserInfo needs an access token with scope openid.', 'openid');
  const user = await deps.store.users.findById(sub);
  if (!user || user.disabled === 1) return bearerError(realm, 'invalid_token', INVALID);
  return { status: 200, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: { sub: user.id, ...userClaims(user, scope) } };
}
