// The successful authorization response: a code (RFC 6749 §4.1.2; stored as SHA-256, single use,
// GATEHOUSE_AUTHORIZATION_CODE_TTL), an access token (implicit, §4.2.2; never a refresh token), an
// ID token (OIDC Core §3.2.2.5, with at_hash and c_hash for what travels with it, §3.3.2.11), or the
// hybrid combinations. A session that obtains an ID token, or a code for one, is recorded as signed
// in to the client (back-channel logout tells the client when it ends).
import { hashToken, randomToken } from '../../crypto/tokens.js';
import type { Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import { userClaims } from '../../oidc/claims.js';
import type { OAuthDeps } from '../deps.js';
import { issueTokens } from '../issue.js';
import type { ResponseType } from './check-response-type.js';
import { respond, type Destination } from './respond.js';

export interface Approved {
  client: ClientRow;
  userId: string;
  authTime: number;
  responseType: ResponseType;
  scope: string[];
  audience: string;
  redirectUri: string;
  challenge: string | null;
  nonce: string | undefined;
  /** The OIDC session id of the login session. */
  sid: string;
}

export async function issueAuthorizationResponse(a: Approved, to: Destination, deps: OAuthDeps, headers: Record<string, string | string[]> = {}): Promise<Reply> {
  const out: Record<string, string> = {};
  const now = deps.clock.now();
  const openid = a.scope.includes('openid');
  if (a.responseType.code) out.code = randomToken();
  // One transaction for both writes: on SQLite it shares its durable COMMIT with the other
  // authorizations in flight (group commit) instead of waiting for the disk alone, twice.
  if (openid || out.code) {
    await deps.store.transaction(async (tx) => {
      if (openid) await tx.sessionClients.add({ sid: a.sid, client_id: a.client.client_id, user_id: a.userId, created_at: now });
      if (out.code) {
        await tx.authorizationCodes.create({
          code_hash: hashToken(out.code),
          client_id: a.client.client_id,
          user_id: a.userId,
          redirect_uri: a.redirectUri,
          scope: a.scope.join(' '),
          code_challenge: a.challenge,
          nonce: a.nonce ?? null,
          auth_time: a.authTime,
          created_at: now,
          expires_at: now + deps.codeTtlMs,
          used_at: null,
          family_id: null,
          sid: openid ? a.sid : null,
        });
      }
    });
  }
  if (a.responseType.token) {
    const issued = await issueTokens({ client: a.client, userId: a.userId, scope: a.scope, audience: a.audience, authTime: a.authTime, refresh: false }, deps);
    const body = issued.reply.body as { access_token: string; token_type: string; expires_in: number; scope?: string };
    Object.assign(out, { access_token: body.access_token, token_type: body.token_type, expires_in: String(body.expires_in), ...(body.scope ? { scope: body.scope } : {}) });
  }
  if (a.responseType.idToken) {
    // With no access token to call UserInfo with, the claims go in the ID token (OIDC Core §5.4).
    const user = a.responseType.name === 'id_token' ? await deps.store.users.findById(a.userId) : undefined;
    out.id_token = await deps.idTokens.issue({
      clientId: a.client.client_id, userId: a.userId, authTime: a.authTime, nonce: a.nonce, sid: a.sid,
      accessToken: out.access_token, code: out.code, claims: user ? userClaims(user, a.scope) : undefined,
    });
  }
  return respond(to, out, headers);
}
