// The authorization request (RFC 6749 §4.1.1, §4.2.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): the parameters we read, taken
// from the query (GET) or the form (POST). A parameter sent twice is refused (§3.1); unknown ones
// are ignored.
import { createHash } from 'node:crypto';

export const AUTHORIZE_PARAMS = [
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'code_challenge', 'code_challenge_method',
  // OpenID Connect Core §3.1.2.1 (display, ui_locales, acr_values, claims_locales: accepted and ignored)
  'nonce', 'prompt', 'max_age', 'id_token_hint', 'login_hint',
] as const;
export type AuthorizeParam = (typeof AUTHORIZE_PARAMS)[number];
export type AuthorizeParams = Partial<Record<AuthorizeParam, string>>;

/** OIDC Core §6: request objects and dynamic registration are not supported; asked for, they get
 * their own errors (§3.1.2.6) rather than being silently ignored. */
export const REFUSED_PARAMS: Record<string, string> = {
  request: 'request_not_supported',
  request_uri: 'request_uri_not_supported',
  registration: 'registration_not_supported',
};

export interface ParsedAuthorize {
  params: AuthorizeParams;
  /** Names sent more than once. */
  repeated: string[];
  /** Parameters of REFUSED_PARAMS that were sent. */
  refused: string[];
}

export function parseAuthorizeQuery(query: string): ParsedAuthorize {
  const params: AuthorizeParams = {};
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const [name, value] of new URLSearchParams(query)) {
    if (seen.has(name)) repeated.push(name);
    seen.add(name);
    // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    if (value !== '' && (AUTHORIZE_PARAMS as readonly string[]).includes(name)) params[name as AuthorizeParam] = value;
  }
  return { params, repeated, refused: [...seen].filter((n) => Object.hasOwn(REFUSED_PARAMS, n)) };
}

export function fromForm(form: Record<string, string>): ParsedAuthorize {
  const params: AuthorizeParams = {};
  for (const name of AUTHORIZE_PARAMS) if (form[name] !== undefined && form[name] !== '') params[name] = form[name];
  return { params, repeated: [], refused: Object.keys(form).filter((n) => Object.hasOwn(REFUSED_PARAMS, n)) };
}

/** The request's parameters as hidden form fields carry them from page to page. */
export function carried(params: AuthorizeParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of AUTHORIZE_PARAMS) if (params[name] !== undefined) out[name] = params[name]!;
  return out;
}

/** A digest of the request, so that a consent token works for this request only. */
export function requestDigest(params: AuthorizeParams): string {
  return createHash('sha256').update(JSON.stringify(carried(params))).digest('base64url');
}
