// The request as every verifier sees it, whatever the web framework (the adapters build it), and
// what a verifier answers: the caller, or the reply that refuses the request.
import type { AuthRequest, Reply } from '../schemes/http-auth/replies.js';
import type { AccessInfo } from './access-info.js';
import type { PasswordAuth } from './password-auth.js';
import type { Need, Requirement } from './requirements.js';

export interface ResourceRequest {
  method: string;
  /** The request target as received: path and query. */
  target: string;
  /** Every Authorization field line (normally zero or one). */
  authorization: readonly string[];
  /** Over TLS or from this machine; adapters decide (see adapters/node.ts). */
  secure: boolean;
  /** The parsed form body, when the framework parsed one (a token there is refused). */
  form?: unknown;
  /** The raw body, read only when a scheme needs it (Digest qop=auth-int). */
  body?: () => Promise<Uint8Array>;
}

export type Outcome<A> =
  | { ok: true; auth: A; /** Headers for the response (Authentication-Info, Cache-Control). */ headers?: Record<string, string> }
  | { ok: false; reply: Reply };

/** Anything the adapters can put in front of a route: the bearer ResourceServer, the Basic and the
 * Digest verifiers. */
export interface Verifier<A = unknown> {
  verify(request: ResourceRequest, requirement?: Requirement | Need): Promise<Outcome<A>>;
}

const EMPTY = Buffer.alloc(0);

/** The AuthRequest the shared scheme code (src/schemes/) takes. */
export function toAuthRequest(req: ResourceRequest, target = req.target): AuthRequest {
  return { method: req.method, target, host: undefined, authorization: req.authorization as string[], body: EMPTY, ip: '', secureEnough: req.secure };
}

/** What the adapters put on a request: narrow on `scheme` ('Bearer', 'Basic', 'Digest'). */
export type Authenticated = AccessInfo | PasswordAuth;
