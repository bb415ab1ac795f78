// GET /api/oauth/resources: the demo resource, for access tokens that carry scope `api` (RFC 6750
// §3.1: without it, 403 insufficient_scope with a challenge naming the scope). JWT access tokens are
// checked locally; opaque ones (clients registered with --token-format opaque) are looked up, as a
// resource server would through introspection.
import { hashToken, looksLikeToken } from '../crypto/tokens.js';
import { extractBearer, authenticateBearer } from '../schemes/bearer/authenticate.js';
import { bearerError } from '../schemes/bearer/challenge.js';
import type { AuthRequest, Reply } from '../schemes/http-auth/replies.js';
import type { AccessTokens } from '../tokens/access-token.js';
import { findAccessToken, type OAuthDeps } from './deps.js';
import { opaqueTokenActive } from './introspection.js';

export const DEMO_SCOPE = 'api';

interface DemoDeps {
  realm: string;
  tokens: AccessTokens;
  audience: string;
  oauth: OAuthDeps;
}

async function grantOf(req: AuthRequest, deps: DemoDeps): Promise<{ sub: string; client_id: string; scope: string } | { reply: Reply }> {
  const got = extractBearer(req, deps.realm);
  if ('token' in got && looksLikeToken(got.token)) {
    const row = await findAccessToken(deps.oauth, hashToken(got.token));
    if (!row || row.audience !== deps.audience || !(await opaqueTokenActive(deps.oauth, row))) return { reply: bearerError(deps.realm, 'invalid_token', 'The access token is invalid, expired or revoked.') };
    return { sub: row.user_id ?? row.client_id, client_id: row.client_id, scope: row.scope };
  }
  const auth = await authenticateBearer(req, deps);
  if (!auth.ok) return { reply: auth.reply };
  return { sub: auth.claims.sub, client_id: auth.claims.client_id, scope: auth.claims.scope ?? '' };
}

export async function demoResource(req: AuthRequest, deps: DemoDeps): Promise<Reply> {
  const grant = await grantOf(req, deps);
  if ('reply' in grant) return grant.reply;
  if (!grant.scope.split(' ').includes(DEMO_SCOPE)) return bearerError(deps.realm, 'insufficient_scope', `This resource needs scope "${DEMO_SCOPE}".`, DEMO_SCOPE);
  return {
    status: 200,
    headers: { 'cache-control': 'no-store' },
    body: { scheme: 'Bearer', sub: grant.sub, client_id: grant.client_id, scope: grant.scope, message: 'Hello: this resource needs an OAuth access token with scope "api".' },
  };
}
