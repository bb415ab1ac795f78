// RFC 7662 token introspection, for authenticated confidential clients (resource servers). Access
// tokens of every kind are answered; a refresh token only to the client it was issued to. Anything
// not valid now (expired, revoked, a disabled user, not ours) is {"active": false} and nothing more
// (§2.2). A JWT is verified before any of its claims is believed (catalogue TK-18).
import { hashToken, looksLikeToken } from '../crypto/tokens.js';
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import type { AccessTokenRow } from '../store/access-tokens.js';
import { authenticateClient } from './client-auth.js';
import { findAccessToken, jwtStillActive, type OAuthDeps } from './deps.js';
import { checkTokenRequest, type TokenRequest } from './token-endpoint.js';

const answer = (body: Record<string, unknown>): Reply => ({ status: 200, headers: { 'cache-control': 'no-store' }, body });
const INACTIVE = answer({ active: false });
const secs = (ms: number) => Math.floor(ms / 1000);

async function userActive(deps: OAuthDeps, userId: string | null): Promise<{ ok: boolean; username?: string }> {
  if (userId === null) return { ok: true };
  const user = await deps.store.users.findById(userId);
  return user && user.disabled === 0 ? { ok: true, username: user.username } : { ok: false };
}

/** An opaque access token that is unexpired, unrevoked and of a usable user. Revoking a family
 * revokes the access tokens recorded in it (store/refresh-tokens.ts). */
export async function opaqueTokenActive(deps: OAuthDeps, row: AccessTokenRow): Promise<boolean> {
  return row.expires_at > deps.clock.now() && row.revoked_at === null && (await userActive(deps, row.user_id)).ok;
}

export async function introspectionEndpoint(req: TokenRequest, deps: OAuthDeps): Promise<Reply> {
  const refused = checkTokenRequest(req, 'introspection');
  if (refused || !req.form) return refused!;
  const auth = await authenticateClient({ authorization: req.authorization, body: req.form, realm: deps.realm }, deps.clients);
  if ('reply' in auth) return auth.reply;
  if (auth.client.type !== 'confidential') return errorReply(401, 'invalid_client', 'Only confidential clients may introspect tokens.', { 'www-authenticate': `Basic realm="${deps.realm}", charset="UTF-8"` });
  const token = req.form.token;
  if (!token) return errorReply(400, 'invalid_request', 'Send the token to introspect.');
  const now = deps.clock.now();
  const iss = deps.issuer();
  if (looksLikeToken(token)) {
    const hash = hashToken(token);
    const opaque = await findAccessToken(deps, hash);
    if (opaque) {
      if (!(await opaqueTokenActive(deps, opaque))) return INACTIVE;
      const user = await userActive(deps, opaque.user_id);
      return answer({
        active: true, token_type: 'Bearer', scope: opaque.scope, client_id: opaque.client_id, sub: opaque.user_id ?? opaque.client_id,
        ...(user.username ? { username: user.username } : {}), aud: opaque.audience, iss, iat: secs(opaque.created_at), exp: secs(opaque.expires_at),
      });
    }
    const refresh = await deps.store.refreshTokens.findLocked(hash);
    if (!refresh || refresh.family.client_id !== auth.client.client_id) return INACTIVE;
    const { token: row, family } = refresh;
    if (family.revoked_at !== null || family.expires_at <= now || row.used_at !== null || row.expires_at <= now) return INACTIVE;
    const user = await userActive(deps, family.user_id);
    if (!user.ok) return INACTIVE;
    return answer({
      active: true, token_type: 'refresh_token', scope: family.scope, client_id: family.client_id, sub: family.user_id,
      ...(user.username ? { username: user.username } : {}), iss, iat: secs(row.created_at), exp: secs(row.expires_at),
    });
  }
  let claims;
  try {
    claims = await deps.tokens.verifyAnyAudience(token, deps.scopes.audiences());
  } catch {
    return INACTIVE;
  }
  if (!(await jwtStillActive(deps, token, claims.client_id))) return INACTIVE;
  const isClientToken = claims.sub === claims.client_id;
  const user = isClientToken ? { ok: true } : await userActive(deps, claims.sub);
  if (!user.ok) return INACTIVE;
  return answer({
    active: true, token_type: 'Bearer', scope: claims.scope ?? '', client_id: claims.client_id, sub: claims.sub,
    ...('username' in user && user.username ? { username: user.username } : {}), aud: claims.aud, iss: claims.iss, iat: claims.iat, exp: claims.exp, jti: claims.jti,
  });
}
