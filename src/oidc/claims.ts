// OpenID Connect Core §5.1, §5.4: the user claims each scope releases. `profile`: name,
// preferred_username, updated_at; `email`: email, email_verified. `sub` is always the user's id.
import type { UserRow } from '../store/users.js';

export const OIDC_SCOPES = ['openid', 'profile', 'email'] as const;

export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'azp', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'c_hash', 'acr', 'amr', 'sid', 'name', 'preferred_username', 'updated_at', 'email', 'email_verified'];

export function userClaims(user: UserRow, scope: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (scope.includes('profile')) {
    out.name = user.display_name ?? user.username;
    out.preferred_username = user.username;
    out.updated_at = Math.floor(user.updated_at / 1000);
  }
  if (scope.includes('email') && user.email !== null) {
    out.email = user.email;
    out.email_verified = user.email_verified === 1;
  }
  return out;
}
