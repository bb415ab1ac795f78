// The successful authorization response: a code (RFC 6749 §4.1.2; stored as SHA-256, single use,
// GATEHOUSE_AUTHORIZATION_CODE_TTL) or, for the legacy implicit grant, an access token in the
// fragment (§4.2.2; never a refresh token).
import { hashToken, randomToken } from '../../crypto/tokens.js';
import type { Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import type { OAuthDeps } from '../deps.js';
import { issueTokens } from '../issue.js';
import { respond, type Destination } from './respond.js';

export interface Approved {
  client: ClientRow;
  userId: string;
  authTime: number;
  responseType: 'code' | 'token';
  scope: string[];
  audience: string;
  redirectUri: string;
  challenge: string | null;
  nonce: string | undefined;
}

export async function issueAuthorizationResponse(a: Approved, to: Destination, deps: OAuthDeps, headers: Record<string, string | string[]> = {}): Promise<Reply> {
  if (a.responseType === 'code') {
    const code = randomToken();
    const now = deps.clock.now();
    await deps.store.authorizationCodes.create({
      code_hash: hashToken(code),
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
    });
    return respond(to, { code }, headers);
  }
  const issued = await issueTokens({ client: a.client, userId: a.userId, scope: a.scope, audience: a.audience, authTime: a.authTime, refresh: false }, deps);
  const body = issued.reply.body as { access_token: string; token_type: string; expires_in: number; scope?: string };
  return respond(to, { access_token: body.access_token, token_type: body.token_type, expires_in: String(body.expires_in), ...(body.scope ? { scope: body.scope } : {}) }, headers);
}
