// RFC 6750 §2.1: a bearer access token in the Authorization header, and only there. A token in the
// query (§2.3) or in a form body is refused (RFC 9700 §4.3.2, catalogue JW-25, RS-09); the scheme
// name is case-insensitive and spaces after it are tolerated (RS-11).
import type { AccessTokenClaims, AccessTokens } from '../../tokens/access-token.js';
import { InvalidAccessToken } from '../../tokens/access-token.js';
import { precheck, type AuthRequest, type Reply } from '../http-auth/replies.js';
import { bearerError, bearerMissing } from './challenge.js';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface BearerDeps {
  realm: string;
  tokens: AccessTokens;
  audience?: string;
}

export type BearerOutcome = { ok: true; claims: AccessTokenClaims; token: string } | { ok: false; reply: Reply };

function tokenInQuery(target: string): boolean {
  const q = target.indexOf('?');
  return q >= 0 && new URLSearchParams(target.slice(q + 1)).has('access_token');
}

/** The token from the request, or the reply that refuses it. */
export function extractBearer(req: AuthRequest, realm: string): { token: string } | { reply: Reply } {
  if (tokenInQuery(req.target)) return { reply: bearerError(realm, 'invalid_request', 'Send the access token in the Authorization header, not in the URL.') };
  const pre = precheck(req);
  if ('status' in pre) return { reply: pre.status === 400 ? bearerError(realm, 'invalid_request', String((pre.body as { error_description: string }).error_description)) : pre };
  const value = pre.value;
  if (value === undefined) return { reply: bearerMissing(realm) };
  const m = /^([^\s]+)(?:[ \t]+(.*))?$/.exec(value.trim());
  if (!m || m[1]!.toLowerCase() !== 'bearer') return { reply: bearerMissing(realm) };
  const token = (m[2] ?? '').trim();
  if (!B64TOKEN.test(token)) return { reply: bearerError(realm, 'invalid_request', 'The Authorization header does not hold a bearer token.') };
  return { token };
}

export async function authenticateBearer(req: AuthRequest, deps: BearerDeps): Promise<BearerOutcome> {
  const got = extractBearer(req, deps.realm);
  if ('reply' in got) return { ok: false, reply: got.reply };
  try {
    return { ok: true, claims: await deps.tokens.verify(got.token, deps.audience), token: got.token };
  } catch (err) {
    if (err instanceof InvalidAccessToken) return { ok: false, reply: bearerError(deps.realm, 'invalid_token', err.message) };
    throw err;
  }
}
