// What a route asks of a bearer token: an audience (by default the resource server's own) and
// scopes, all of which the token must carry. A token for another audience is invalid_token (401,
// catalogue RS-03); a token for us without a scope is insufficient_scope (403) with the scopes the
// route needs in the challenge (RFC 6750 §3.1).
import { bearerError } from '../schemes/bearer/challenge.js';
import type { Reply } from '../schemes/http-auth/replies.js';
import type { AccessInfo } from './access-info.js';

export interface Requirement {
  /** Scopes the token must all have: "a b" or ["a", "b"]. */
  scope?: string | readonly string[];
  /** Audiences the route accepts (the token's one audience must be among them); default: the
   * resource server's `audience` option. */
  audience?: string | readonly string[];
}

/** A requirement checked once, when the route is set up. */
export interface Need {
  readonly scopes: readonly string[];
  /** undefined: the resource server's default audiences. */
  readonly audiences: readonly string[] | undefined;
  readonly [COMPILED]: true;
}

const COMPILED = Symbol('gatehouse.requirement');
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3

function list(value: string | readonly string[] | undefined, what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = typeof value === 'string' ? value.split(' ').filter(Boolean) : [...value];
  for (const item of items) if (typeof item !== 'string' || item === '') throw new TypeError(`${what}: expected non-empty strings`);
  return items;
}

/** Check and freeze a requirement (a TypeError for a malformed one: a programming error, at start). */
export function compileRequirement(r: Requirement | Need | undefined): Need {
  if (r && COMPILED in r) return r;
  const scopes = list(r?.scope, 'scope') ?? [];
  for (const s of scopes) if (!SCOPE_TOKEN.test(s)) throw new TypeError(`scope: "${s}" is not a scope token (RFC 6749 §3.3)`);
  const audiences = list(r?.audience, 'audience');
  if (audiences && audiences.length === 0) throw new TypeError('audience: name at least one');
  return Object.freeze({ scopes: Object.freeze([...new Set(scopes)]), audiences: audiences && Object.freeze(audiences), [COMPILED]: true as const });
}

/** The refusal for a verified token that does not meet `need`, or undefined when it does. */
export function checkRequirement(info: AccessInfo, need: Need, defaultAudiences: readonly string[], realm: string): Reply | undefined {
  if (!(need.audiences ?? defaultAudiences).includes(info.aud)) return bearerError(realm, 'invalid_token', 'The access token is meant for another audience.');
  for (const s of need.scopes) {
    if (!info.scopes.includes(s)) return bearerError(realm, 'insufficient_scope', `This resource needs scope "${need.scopes.join(' ')}".`, need.scopes.join(' '));
  }
  return undefined;
}
