// The two ways a credential check can go wrong besides "no": the credential is bad (the client's
// fault: 401) or the authorization server cannot answer (nobody's verdict: 503, fail closed,
// catalogue RS-07). Messages name no token and no secret: they are sent to clients.
import type { Reply } from '../schemes/http-auth/replies.js';

/** The token is malformed, forged, expired, revoked or not ours: 401 invalid_token. */
export class InvalidToken extends Error {}

/** The authorization server (discovery, JWKS or introspection) could not be asked. */
export class IssuerUnavailable extends Error {}

export const RETRY_AFTER_SECONDS = 5;

/** 503: no decision without the authorization server, and never a guess. */
export function unavailable(): Reply {
  return {
    status: 503,
    headers: { 'retry-after': String(RETRY_AFTER_SECONDS), 'cache-control': 'no-store' },
    body: { error: 'temporarily_unavailable', error_description: 'The authorization server cannot be reached. Try again later.' },
  };
}
