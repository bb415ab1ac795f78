// What a route learns about the caller of a verified bearer token, the same for JWT access tokens
// (RFC 9068) and introspected opaque ones (RFC 7662). Authorize on `iss` + `sub` (catalogue RS-05),
// never on a username or email claim.
export interface AccessInfo {
  scheme: 'Bearer';
  /** How the token was checked: locally ('jwt') or by introspection ('opaque'). */
  format: 'jwt' | 'opaque';
  iss: string;
  /** The user, or for client_credentials the client itself. */
  sub: string;
  clientId: string;
  /** The single audience the token is for. */
  aud: string;
  scopes: readonly string[];
  /** Expiry, in seconds since the epoch. */
  exp: number;
  /** Every claim of the JWT, or every member of the introspection answer. */
  claims: Readonly<Record<string, unknown>>;
}

/** A scope claim (space-separated, RFC 6749 §3.3) as a list; anything but a string is no scope. */
export function scopesOf(scope: unknown): string[] {
  return typeof scope === 'string' && scope !== '' ? scope.split(' ').filter(Boolean) : [];
}

/** aud as one string: a string, or an array of exactly one (RFC 8725 §3.9: one audience per token). */
export function singleAudience(aud: unknown): string | undefined {
  const one = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;
  return typeof one === 'string' ? one : undefined;
}
