// Refresh-token families (RFC 9700 §4.14.2, catalogue JW-18..JW-23, R-05, R-07). A login starts a
// family; each use rotates the token. The rules, applied in one transaction with the family locked:
//   - an unused, unexpired token of a live family rotates: it is marked used, the family's other
//     unused tokens (siblings from a grace window) are superseded, and a new token is issued;
//   - a used token presented again within `grace` of its use gets a fresh token in the same family
//     (two tabs, a retried request): no revocation;
//   - a used token presented after that is a replay: the whole family is revoked, including the
//     newest token. The revocation commits before the error is returned;
//   - a revoked or expired family, an expired token, another client, a disabled user: invalid_grant.
// So of N parallel uses of one token, exactly one rotates and the other N-1 take the grace path
// (or, with grace 0, are replays that revoke the family).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { hashToken, looksLikeToken, randomToken } from '../crypto/tokens.js';
import type { RefreshFamilyRow, RefreshTokenRow } from '../store/refresh-tokens.js';
import type { Repos, Store } from '../store/store.js';

export interface RefreshConfig {
  graceMs: number;
  idleMs: number;
  absoluteMs: number;
}

export type InvalidReason = 'unknown' | 'client' | 'revoked' | 'expired' | 'user' | 'reused';

export type RotateOutcome =
  | { kind: 'rotated'; token: string; family: RefreshFamilyRow; scope: string; grace: boolean }
  | { kind: 'invalid'; reason: InvalidReason; familyId?: string }
  | { kind: 'invalid_scope' };

export interface NewFamily {
  userId: string;
  clientId: string;
  scope: string;
  authTime: number;
  /** The resource the family's access tokens are for (OAuth); the JWT login uses the default. */
  audience?: string | undefined;
  /** A shorter absolute lifetime for this client, in ms. */
  absoluteMs?: number | undefined;
  /** The family's id, when the caller has already recorded it (an authorization code). */
  id?: string | undefined;
  /** The login session (OIDC sid) behind the grant, if any. */
  sid?: string | null | undefined;
}

export function scopeIncludes(granted: string, requested: string): boolean {
  const have = new Set(granted.split(' ').filter(Boolean));
  return requested.split(' ').filter(Boolean).every((s) => have.has(s));
}

export class RefreshFamilies {
  constructor(private readonly store: Store, private readonly config: RefreshConfig, private readonly clock: Clock) {}

  /** Start a family for a fresh login; `tx` joins a caller's transaction. */
  async start(input: NewFamily, tx?: Repos): Promise<{ token: string; familyId: string }> {
    const now = this.clock.now();
    const family: RefreshFamilyRow = {
      id: input.id ?? randomUUID(),
      user_id: input.userId,
      client_id: input.clientId,
      scope: input.scope,
      auth_time: input.authTime,
      created_at: now,
      expires_at: now + (input.absoluteMs ?? this.config.absoluteMs),
      revoked_at: null,
      revoked_reason: null,
      audience: input.audience ?? null,
      sid: input.sid ?? null,
    };
    const token = randomToken();
    const row = this.tokenRow(token, family, 0, now);
    if (tx) await tx.refreshTokens.createFamily(family, row);
    else await this.store.transaction((t) => t.refreshTokens.createFamily(family, row));
    return { token, familyId: family.id };
  }

  private tokenRow(token: string, family: RefreshFamilyRow, generation: number, now: number): RefreshTokenRow {
    return {
      token_hash: hashToken(token),
      family_id: family.id,
      generation,
      created_at: now,
      expires_at: Math.min(now + this.config.idleMs, family.expires_at),
      used_at: null,
    };
  }

  /** Use a refresh token: see the rules at the top of this file. `scope`, when given, narrows the
   * access token's scope and must be within the family's (RFC 6749 §6). */
  /** The family of a token, read without a lock: for work done before the rotation (signing the
   * next access token); the rotation itself decides. */
  async peek(presented: unknown): Promise<RefreshFamilyRow | undefined> {
    if (!looksLikeToken(presented)) return undefined;
    const token = await this.store.refreshTokens.find(hashToken(presented));
    return token && this.store.refreshTokens.findFamily(token.family_id);
  }

  /** `onRotated` runs in the rotation's transaction, to record what else the rotation issues. */
  async rotate(presented: unknown, clientId: string, scope?: string, onRotated?: (rotated: Extract<RotateOutcome, { kind: 'rotated' }>, tx: Repos) => Promise<void>): Promise<RotateOutcome> {
    if (!looksLikeToken(presented)) return { kind: 'invalid', reason: 'unknown' };
    const hash = hashToken(presented);
    return this.store.transaction(async (tx): Promise<RotateOutcome> => {
      const found = await tx.refreshTokens.findLocked(hash);
      if (!found) return { kind: 'invalid', reason: 'unknown' };
      const { token, family } = found;
      const now = this.clock.now();
      if (family.client_id !== clientId) return { kind: 'invalid', reason: 'client' };
      if (family.revoked_at !== null) return { kind: 'invalid', reason: 'revoked' };
      if (family.expires_at <= now) return { kind: 'invalid', reason: 'expired' };
      const user = await tx.users.findById(family.user_id);
      if (!user || user.disabled === 1) return { kind: 'invalid', reason: 'user' };
      if (scope !== undefined && !scopeIncludes(family.scope, scope)) return { kind: 'invalid_scope' };
      const granted = scope ?? family.scope;
      const issue = async (grace: boolean): Promise<RotateOutcome> => {
        const next = randomToken();
        await tx.refreshTokens.addToken(this.tokenRow(next, family, token.generation + 1, now));
        const rotated = { kind: 'rotated' as const, token: next, family, scope: granted, grace };
        await onRotated?.(rotated, tx);
        return rotated;
      };
      if (token.used_at === null) {
        if (token.expires_at <= now) return { kind: 'invalid', reason: 'expired' };
        if (!(await tx.refreshTokens.markUsed(hash, now))) throw new Error('refresh token changed under the family lock');
        await tx.refreshTokens.supersedeOthers(family.id, hash, now);
        return issue(false);
      }
      if (now - token.used_at < this.config.graceMs) return issue(true);
      // A replay: revoke, and let the transaction commit before the caller answers.
      await tx.refreshTokens.revokeFamily(family.id, now, 'reuse');
      return { kind: 'invalid', reason: 'reused', familyId: family.id };
    });
  }

  /** Revoke the family of a token, and its access tokens (logout, RFC 7009). Returns whether the
   * token was known. A client may revoke only its own tokens. */
  async revoke(presented: unknown, clientId: string, reason = 'logout'): Promise<boolean> {
    if (!looksLikeToken(presented)) return false;
    const hash = hashToken(presented);
    return this.store.transaction(async (tx) => {
      const found = await tx.refreshTokens.findLocked(hash);
      if (!found || found.family.client_id !== clientId) return false;
      await tx.refreshTokens.revokeFamily(found.family.id, this.clock.now(), reason);
      return true;
    });
  }
}
