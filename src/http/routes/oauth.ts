// OAuth 2.0: POST /oauth/token, /oauth/revoke, /oauth/introspect; GET
// /.well-known/oauth-authorization-server; GET /api/oauth/resources (the demo resource).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { authorizeEndpoint } from '../../oauth/authorize/endpoint.js';
import { demoResource } from '../../oauth/demo-resource.js';
import { introspectionEndpoint } from '../../oauth/introspection.js';
import { authorizationServerMetadata } from '../../oauth/metadata.js';
import { revocationEndpoint } from '../../oauth/revocation.js';
import { tokenEndpoint, type TokenRequest } from '../../oauth/token-endpoint.js';
import { errorReply } from '../../schemes/http-auth/replies.js';
import { send, toAuthRequest } from '../auth-request.js';
import { sessionDeps, toSessionRequest } from './sessions.js';
import { BEARER_REALM } from './jwt-login.js';

/** RFC 6749 §3.2: a parameter sent without a value is treated as omitted. */
function withoutEmpty(form: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const name in form) {
    if (form[name] !== '') continue;
    out ??= Object.assign(Object.create(null) as Record<string, string>, form);
    delete out[name];
  }
  return out ?? form;
}

export function oauthRoutes(app: FastifyInstance, g: Gatehouse, options: { authorizationEndpoint: boolean }): void {
  const toTokenRequest = (req: FastifyRequest): TokenRequest => {
    const auth = toAuthRequest(req, g.settings.allowInsecureHttp);
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''));
    return {
      form: isForm ? withoutEmpty((req.body as Record<string, string> | undefined) ?? {}) : undefined,
      authorization: auth.authorization,
      ip: req.ip,
      secureEnough: auth.secureEnough,
    };
  };
  const authorize = async (req: FastifyRequest) => {
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''));
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    return authorizeEndpoint(
      { ...toSessionRequest(req, g), method: req.method === 'POST' ? 'POST' : 'GET', query: q < 0 ? '' : url.slice(q + 1), form: req.method === 'POST' && isForm ? ((req.body as Record<string, string> | undefined) ?? {}) : undefined },
      g.oauth,
      sessionDeps(g),
    );
  };
  app.get('/oauth/authorize', async (req, reply) => send(reply, await authorize(req)));
  app.post('/oauth/authorize', async (req, reply) => send(reply, await authorize(req)));
  app.post('/oauth/token', async (req, reply) => send(reply, await tokenEndpoint(toTokenRequest(req), g.oauth)));
  app.post('/oauth/revoke', async (req, reply) => send(reply, await revocationEndpoint(toTokenRequest(req), g.oauth)));
  app.post('/oauth/introspect', async (req, reply) => send(reply, await introspectionEndpoint(toTokenRequest(req), g.oauth)));
  // RFC 6749 §3.2: the token endpoint takes POST only (so do revocation and introspection).
  for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
    app.get(path, async (_req, reply) => send(reply, errorReply(405, 'invalid_request', 'Use POST with a form body.', { allow: 'POST' })));
  }
  app.get('/.well-known/oauth-authorization-server', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(authorizationServerMetadata(g.oauth, options)),
  );
  app.get('/api/oauth/resources', async (req, reply) =>
    send(reply, await demoResource(toAuthRequest(req, g.settings.allowInsecureHttp), { realm: BEARER_REALM, tokens: g.accessTokens, audience: g.oauth.scopes.audienceOf(['api']) ?? g.settings.accessTokenAudience, oauth: g.oauth })),
  );
}
