// Issuing OAuth tokens for a grant: the access token (an RFC 9068 JWT, or an opaque reference token
// for clients registered with --token-format opaque), and a refresh token when the grant allows.
import { randomUUID } from 'node:crypto';
import { hashToken, randomToken } from '../crypto/tokens.js';
import type { ClientRow } from '../store/clients.js';
import type { Repos } from '../store/store.js';
import type { AccessTokenRow } from '../store/access-tokens.js';
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
  /** An existing family (refresh), a refresh token to create (true), none (false), or only a
   * family id on the access token's row (no refresh token), so that a code replay can revoke it. */
  refresh: { token: string; familyId: string } | boolean | 'record';
  /** The id for a new family or record (else a random one). */
  familyId?: string;
  /** The login session (OIDC sid) behind the grant, kept on a new family for refreshed ID tokens. */
  sid?: string | null;
}

/** An access token made before any transaction: signing is the slow part, and a transaction waits
 * for nothing but the database (store.ts). Its row is written by recordGrant, in the transaction. */
export interface MintedAccess {
  token: string;
  expiresIn: number;
  /** What a stored row of this token says; recordGrant adds the hash and `family_id`. */
  row: Omit<AccessTokenRow, 'token_hash'>;
  /** Opaque tokens always get a row; a JWT only within a family (so that it can be revoked). */
  opaque: boolean;
}

export async function mintAccessToken(grant: Omit<Grant, 'refresh'>, deps: OAuthDeps): Promise<MintedAccess> {
  const { client } = grant;
  const scope = grant.scope.join(' ');
  const ttl = client.access_token_ttl ?? undefined;
  const base = { client_id: client.client_id, user_id: grant.userId ?? null, scope, audience: grant.audience, family_id: null, auth_time: grant.authTime ?? null, revoked_at: null };
  if (client.token_format === 'opaque') {
    const now = deps.clock.now();
    const expiresIn = ttl ?? deps.tokens.ttlSeconds;
    const token = randomToken();
    return { token, expiresIn, opaque: true, row: { ...base, created_at: now, expires_at: now + expiresIn * 1000 } };
  }
  const issued = await deps.tokens.issue({ subject: grant.userId ?? client.client_id, clientId: client.client_id, scope, audience: grant.audience, authTime: grant.authTime, ttlSeconds: ttl });
  // A JWT issued within a family is recorded by hash, so that introspection can call it inactive
  // once the family is revoked (code replay, refresh reuse, logout) before it expires.
  const row = { ...base, created_at: issued.claims.iat * 1000, expires_at: issued.claims.exp * 1000 + deps.tokens.leewayMs };
  return { token: issued.token, expiresIn: issued.expiresIn, opaque: false, row };
}

/** Write what a grant issues, in `tx`: the refresh family (new, or the one being rotated) and the
 * access token's row. Returns the token response. */
export async function recordGrant(grant: Grant, access: MintedAccess, deps: OAuthDeps, tx: Repos, idToken?: string): Promise<{ reply: Reply; familyId: string | undefined }> {
  const { client } = grant;
  const scope = grant.scope.join(' ');
  let refresh: { token: string; familyId: string } | undefined;
  let familyId: string | undefined;
  if (grant.refresh === 'record') familyId = grant.familyId ?? randomUUID();
  else if (grant.refresh === true && grant.userId !== undefined) {
    refresh = await deps.families.start(
      {
        userId: grant.userId,
        clientId: client.client_id,
        scope,
        authTime: grant.authTime ?? deps.clock.now(),
        audience: grant.audience,
        absoluteMs: client.refresh_token_ttl === null ? undefined : client.refresh_token_ttl * 1000,
        id: grant.familyId,
        sid: grant.sid,
      },
      tx,
    );
  } else if (typeof grant.refresh === 'object') refresh = grant.refresh;
  familyId ??= refresh?.familyId;
  if (access.opaque || familyId) await tx.accessTokens.create({ ...access.row, token_hash: hashToken(access.token), family_id: familyId ?? null });
  return { reply: tokenResponse(access, refresh?.token, scope, idToken), familyId };
}

/** Mint, then record in one transaction (none when there is nothing to write). */
export async function issueTokens(grant: Grant, deps: OAuthDeps): Promise<{ reply: Reply; familyId: string | undefined }> {
  const access = await mintAccessToken(grant, deps);
  if (!access.opaque && grant.refresh === false) return recordGrant(grant, access, deps, deps.store);
  return deps.store.transaction((tx) => recordGrant(grant, access, deps, tx));
}
