// What the OAuth endpoints need, and small helpers they share.
import type { Accounts } from '../accounts/accounts.js';
import type { Clock } from '../clock.js';
import { hashToken } from '../crypto/tokens.js';
import { JWT_LOGIN_CLIENT } from '../jwt-login/deps.js';
import { ACCESS_TOKENS_CHANGED, type AccessTokenRow } from '../store/access-tokens.js';
import type { FreshCache } from '../store/fresh-cache.js';
import type { Store } from '../store/store.js';
import type { AccessTokens } from '../tokens/access-token.js';
import type { RefreshFamilies } from '../tokens/refresh-families.js';
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import type { IdTokens } from '../oidc/id-token.js';
import type { Clients } from './clients.js';
import { splitScope, type Scopes } from './scopes.js';

export interface OAuthDeps {
  clients: Clients;
  scopes: Scopes;
  tokens: AccessTokens;
  families: RefreshFamilies;
  accounts: Accounts;
  store: Store;
  clock: Clock;
  realm: string;
  issuer: () => string;
  codeTtlMs: number;
  pkceRequired: boolean;
  idTokens: IdTokens;
  /** Access-token rows by hash, served while no revocation has happened since (change feed). */
  accessTokenRows: FreshCache<AccessTokenRow | undefined>;
}

/** The stored row of an access token (opaque, or the record of a JWT), through the cache. */
export function findAccessToken(deps: OAuthDeps, hash: string): Promise<AccessTokenRow | undefined> {
  return deps.accessTokenRows.get(hash, ACCESS_TOKENS_CHANGED, () => deps.store.accessTokens.find(hash));
}

/** What a verified JWT access token of ours must also be to count as active (introspection,
 * UserInfo): not revoked (a row recorded for it says so), and issued to a client that still exists
 * (catalogue CA-13; the JWT login's tokens carry its own id, which is not a registered client). */
export async function jwtStillActive(deps: OAuthDeps, token: string, clientId: string): Promise<boolean> {
  const record = await findAccessToken(deps, hashToken(token));
  if (record && record.revoked_at !== null) return false;
  return clientId === JWT_LOGIN_CLIENT || (await deps.clients.find(clientId)) !== undefined;
}

/** RFC 6749 §3.3: the scope to grant. Omitted: every resource scope the client may have (the
 * OpenID Connect scopes are asked for by name, never implied). Asking for a scope
 * the client may not have, or one that does not exist, is invalid_scope; so is a set of scopes
 * spanning two resources (every token has one audience). */
export function grantScope(requested: string | undefined, allowed: string[], scopes: Scopes): { names: string[]; audience: string } | { reply: Reply } {
  const names = requested === undefined ? allowed.filter((n) => !scopes.get(n)?.oidc) : splitScope(requested);
  if (!names) return { reply: errorReply(400, 'invalid_scope', 'The scope parameter is malformed.') };
  const refused = names.filter((n) => !allowed.includes(n) || !scopes.get(n));
  if (refused.length) return { reply: errorReply(400, 'invalid_scope', `Scope not allowed for this client: ${refused.join(' ')}.`) };
  const audience = scopes.audienceOf(names);
  if (audience === undefined) return { reply: errorReply(400, 'invalid_scope', 'These scopes are for different resources: ask for one resource at a time.') };
  return { names, audience };
}
