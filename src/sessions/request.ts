// What the session endpoints need to know about a request, without any web framework.
import { isSameOrigin } from './same-origin.js';
import { readSessionCookie } from './cookie.js';
import type { Accounts } from '../accounts/accounts.js';
import type { Sessions } from './sessions.js';
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';

export interface SessionRequest {
  body: unknown;
  ip: string;
  secureEnough: boolean;
  /** The request came over HTTPS (directly or, with trust-proxy, through a proxy). */
  https: boolean;
  cookieHeader: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  csrfHeader: string | undefined;
  ownOrigin: string;
}

export interface SessionDeps {
  sessions: Sessions;
  accounts: Accounts;
  absoluteTtlSeconds: number;
  realm: string;
}

export function sessionId(req: SessionRequest): string | undefined {
  return readSessionCookie(req.cookieHeader, req.https);
}

/** 403 for a request another site's page made (login CSRF, logout CSRF). */
export function crossSite(req: SessionRequest): Reply | undefined {
  if (isSameOrigin(req)) return undefined;
  return errorReply(403, 'forbidden', 'Cross-site requests are refused.');
}
