// RFC 6750 §3: the Bearer challenge and the error replies of a protected resource.
import type { Reply } from '../http-auth/replies.js';

export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

const STATUS: Record<BearerError, number> = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 };

/** error_description is limited to %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash). */
function quoted(text: string): string {
  return `"${text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
}

export function bearerChallenge(realm: string, error?: BearerError, description?: string, scope?: string): string {
  let out = `Bearer realm=${quoted(realm)}`;
  if (error) out += `, error="${error}"`;
  if (error && description) out += `, error_description=${quoted(description)}`;
  if (scope) out += `, scope=${quoted(scope)}`;
  return out;
}

/** No credentials at all: 401 with a bare challenge, no error code (RFC 6750 §3.1). */
export function bearerMissing(realm: string): Reply {
  return {
    status: 401,
    headers: { 'www-authenticate': bearerChallenge(realm), 'cache-control': 'no-store' },
    body: { error: 'unauthorized', error_description: 'An access token is required (Authorization: Bearer <token>).' },
  };
}

export function bearerError(realm: string, error: BearerError, description: string, scope?: string): Reply {
  return {
    status: STATUS[error],
    headers: { 'www-authenticate': bearerChallenge(realm, error, description, scope), 'cache-control': 'no-store' },
    body: { error, error_description: description },
  };
}
