// GET /api/oauth/resources: the demo resource, for access tokens that carry scope `api` (RFC 6750
// §3.1: without it, 403 insufficient_scope with a challenge naming the scope).
import { authenticateBearer } from '../schemes/bearer/authenticate.js';
import { bearerError } from '../schemes/bearer/challenge.js';
import type { AuthRequest, Reply } from '../schemes/http-auth/replies.js';
import type { AccessTokens } from '../tokens/access-token.js';

export const DEMO_SCOPE = 'api';

export async function demoResource(req: AuthRequest, deps: { realm: string; tokens: AccessTokens; audience: string }): Promise<Reply> {
  const auth = await authenticateBearer(req, deps);
  if (!auth.ok) return auth.reply;
  const scopes = (auth.claims.scope ?? '').split(' ');
  if (!scopes.includes(DEMO_SCOPE)) return bearerError(deps.realm, 'insufficient_scope', `This resource needs scope "${DEMO_SCOPE}".`, DEMO_SCOPE);
  return {
    status: 200,
    headers: { 'cache-control': 'no-store' },
    body: { scheme: 'Bearer', sub: auth.claims.sub, client_id: auth.claims.client_id, scope: auth.claims.scope, message: 'Hello: this resource needs an OAuth access token with scope "api".' },
  };
}
