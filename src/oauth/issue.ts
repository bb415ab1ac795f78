// Issuing OAuth tokens for a grant: the access token (an RFC 9068 JWT, or an opaque reference token
// for clients registered with --token-format opaque), and a refresh token when the grant allows.
import { hashToken, randomToken } from '../crypto/tokens.js';
import type { ClientRow } from '../store/clients.js';
import type { Repos } from '../store/store.js';
import { tokenResponse } from '../tokens/token-response.js';
import type { Reply } from '../schemes/http-auth/replies.js';
import type { OAuthDeps } from './deps.js';

export interface Grant {
  client: ClientRow;
  /** The user; undefined for client_credentials (the subject is the client). */
  userId: string | undefined;
  scope: string[];
  audience: string;
  authTime: number | undefined;
  /** An existing family (refresh), a refresh token to create (true), none (false), or a family that
   * only records the grant (its token is not handed out), so that a code replay can revoke it. */
  refresh: { token: string; familyId: string } | boolean | 'record';
}

export async function issueTokens(grant: Grant, deps: OAuthDeps, tx: Repos = deps.store): Promise<{ reply: Reply; familyId: string | undefined }> {
  const { client } = grant;
  const scope = grant.scope.join(' ');
  let refresh: { token: string; familyId: string } | undefined;
  if ((grant.refresh === true || grant.refresh === 'record') && grant.userId !== undefined) {
    refresh = await deps.families.start(
      {
        userId: grant.userId,
        clientId: client.client_id,
        scope,
        authTime: grant.authTime ?? deps.clock.now(),
        audience: grant.audience,
        absoluteMs: client.refresh_token_ttl === null ? undefined : client.refresh_token_ttl * 1000,
      },
      tx,
    );
  } else if (typeof grant.refresh === 'object') refresh = grant.refresh;
  const ttl = client.access_token_ttl ?? undefined;
  let access: { token: string; expiresIn: number };
  if (client.token_format === 'opaque') {
    const now = deps.clock.now();
    const expiresIn = ttl ?? deps.tokens.ttlSeconds;
    const token = randomToken();
    await tx.accessTokens.create({
      token_hash: hashToken(token),
      client_id: client.client_id,
      user_id: grant.userId ?? null,
      scope,
      audience: grant.audience,
      family_id: refresh?.familyId ?? null,
      auth_time: grant.authTime ?? null,
      created_at: now,
      expires_at: now + expiresIn * 1000,
      revoked_at: null,
    });
    access = { token, expiresIn };
  } else {
    const issued = await deps.tokens.issue({ subject: grant.userId ?? client.client_id, clientId: client.client_id, scope, audience: grant.audience, authTime: grant.authTime, ttlSeconds: ttl });
    access = issued;
    // A JWT issued within a family is recorded by hash, so that introspection can call it inactive
    // once the family is revoked (code replay, refresh reuse, logout) before it expires.
    if (refresh) {
      await tx.accessTokens.create({
        token_hash: hashToken(issued.token), client_id: client.client_id, user_id: grant.userId ?? null, scope, audience: grant.audience,
        family_id: refresh.familyId, auth_time: grant.authTime ?? null, created_at: issued.claims.iat * 1000, expires_at: issued.claims.exp * 1000 + deps.tokens.leewayMs, revoked_at: null,
      });
    }
  }
  const handOut = grant.refresh === 'record' ? undefined : refresh?.token;
  return { reply: tokenResponse(access, handOut, scope), familyId: refresh?.familyId };
}
