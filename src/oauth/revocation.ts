// RFC 7009 token revocation. The client authenticates; a refresh token revokes its whole family (and
// the opaque access tokens issued in it); an opaque access token is revoked; a JWT access token of
// ours is recorded as revoked (introspection then says inactive; resource servers that check JWTs
// locally accept it until exp). Unknown tokens, and other clients' tokens, get 200 too (§2.2).
import { hashToken, looksLikeToken } from '../crypto/tokens.js';
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import { authenticateClient } from './client-auth.js';
import type { OAuthDeps } from './deps.js';
import { checkTokenRequest, type TokenRequest } from './token-endpoint.js';

const OK: Reply = { status: 200, headers: { 'cache-control': 'no-store' }, body: {} };

export async function revocationEndpoint(req: TokenRequest, deps: OAuthDeps): Promise<Reply> {
  const refused = checkTokenRequest(req, 'revocation');
  if (refused || !req.form) return refused!;
  const auth = await authenticateClient({ authorization: req.authorization, body: req.form, realm: deps.realm }, deps.clients);
  if ('reply' in auth) return auth.reply;
  const token = req.form.token;
  if (!token) return errorReply(400, 'invalid_request', 'Send the token to revoke.');
  const clientId = auth.client.client_id;
  const now = deps.clock.now();
  if (looksLikeToken(token)) {
    // A refresh token of this client: its family goes, with the access tokens issued in it.
    if (await deps.families.revoke(token, clientId, 'revoked')) return OK;
    const opaque = await deps.store.accessTokens.find(hashToken(token));
    if (opaque && opaque.client_id === clientId) await deps.store.accessTokens.revoke(opaque.token_hash, now);
    return OK;
  }
  // A JWT access token: only a valid one of this client is recorded.
  let claims;
  try {
    claims = await deps.tokens.verifyAnyAudience(token, deps.scopes.audiences());
  } catch {
    return OK; // not ours, or no longer valid: nothing to revoke
  }
  if (claims.client_id === clientId) {
    // A database error here must not read as done: it reaches the error handler (503).
    const hash = hashToken(token);
    // A JWT issued within a grant already has a row: mark it; otherwise record the revocation.
    if (await deps.store.accessTokens.find(hash)) await deps.store.accessTokens.revoke(hash, now);
    else await deps.store.accessTokens.create({
      token_hash: hash, client_id: clientId, user_id: null, scope: claims.scope ?? '', audience: claims.aud,
      family_id: null, auth_time: null, created_at: now, expires_at: claims.exp * 1000 + deps.tokens.leewayMs, revoked_at: now,
    });
  }
  return OK;
}
