// What the JWT login endpoints need. The login is a first-party client of our own token service:
// its tokens carry client_id "gatehouse-login" and its families are bound to that client.
import type { Accounts } from '../accounts/accounts.js';
import type { Clock } from '../clock.js';
import type { AccessTokens } from '../tokens/access-token.js';
import type { RefreshFamilies } from '../tokens/refresh-families.js';

export const JWT_LOGIN_CLIENT = 'gatehouse-login';

export interface JwtLoginDeps {
  accounts: Accounts;
  tokens: AccessTokens;
  families: RefreshFamilies;
  realm: string;
  clock: Clock;
}

/** A body field as a string, or undefined (JSON or form bodies; anything else reads as empty). */
export function field(body: unknown, name: string): unknown {
  return body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
}
