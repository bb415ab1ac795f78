// OAuth 2.0: POST /oauth/token, /oauth/revoke, /oauth/introspect; GET
// /.well-known/oauth-authorization-server; GET /api/oauth/resources (the demo resource).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { demoResource } from '../../oauth/demo-resource.js';
import { introspectionEndpoint } from '../../oauth/introspection.js';
import { authorizationServerMetadata } from '../../oauth/metadata.js';
import { revocationEndpoint } from '../../oauth/revocation.js';
import { tokenEndpoint, type TokenRequest } from '../../oauth/token-endpoint.js';
import { send, toAuthRequest } from '../auth-request.js';
import { BEARER_REALM } from './jwt-login.js';

export function oauthRoutes(app: FastifyInstance, g: Gatehouse, options: { authorizationEndpoint: boolean }): void {
  const toTokenRequest = (req: FastifyRequest): TokenRequest => {
    const auth = toAuthRequest(req, g.settings.allowInsecureHttp);
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''));
    return {
      form: isForm ? ((req.body as Record<string, string> | undefined) ?? {}) : undefined,
      authorization: auth.authorization,
      ip: req.ip,
      secureEnough: auth.secureEnough,
    };
  };
  app.post('/oauth/token', async (req, reply) => send(reply, await tokenEndpoint(toTokenRequest(req), g.oauth)));
  app.post('/oauth/revoke', async (req, reply) => send(reply, await revocationEndpoint(toTokenRequest(req), g.oauth)));
  app.post('/oauth/introspect', async (req, reply) => send(reply, await introspectionEndpoint(toTokenRequest(req), g.oauth)));
  app.get('/.well-known/oauth-authorization-server', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(authorizationServerMetadata(g.oauth, options)),
  );
  app.get('/api/oauth/resources', async (req, reply) =>
    send(reply, await demoResource(toAuthRequest(req, g.settings.allowInsecureHttp), { realm: BEARER_REALM, tokens: g.accessTokens, audience: g.oauth.scopes.audienceOf(['api']) ?? g.settings.accessTokenAudience })),
  );
}
