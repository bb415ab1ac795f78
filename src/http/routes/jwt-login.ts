// The JWT login: POST /auth/login, /auth/refresh, /auth/logout; GET /auth/me; and
// GET /api/jwt/resources, a resource that accepts the access tokens (RFC 6750).
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import type { JwtLoginDeps } from '../../jwt-login/deps.js';
import { login } from '../../jwt-login/login.js';
import { logout } from '../../jwt-login/logout.js';
import { me } from '../../jwt-login/me.js';
import { refresh } from '../../jwt-login/refresh.js';
import { authenticateBearer } from '../../schemes/bearer/authenticate.js';
import { send, toAuthRequest } from '../auth-request.js';

export const BEARER_REALM = 'gatehouse';

export function jwtLoginRoutes(app: FastifyInstance, g: Gatehouse): void {
  const deps: JwtLoginDeps = { accounts: g.accounts, tokens: g.accessTokens, families: g.refreshFamilies, realm: BEARER_REALM, clock: g.clock };
  const secure = (req: Parameters<typeof toAuthRequest>[0]) => toAuthRequest(req, g.settings.allowInsecureHttp).secureEnough;
  app.post('/auth/login', async (req, reply) => send(reply, await login({ body: req.body, ip: req.ip, secureEnough: secure(req) }, deps)));
  app.post('/auth/refresh', async (req, reply) => send(reply, await refresh(req.body, deps)));
  app.post('/auth/logout', async (req, reply) => send(reply, await logout(req.body, deps)));
  app.get('/auth/me', async (req, reply) => send(reply, await me(toAuthRequest(req, g.settings.allowInsecureHttp), deps, g.store)));
  app.get('/api/jwt/resources', async (req, reply) => {
    const auth = await authenticateBearer(toAuthRequest(req, g.settings.allowInsecureHttp), deps);
    if (!auth.ok) return send(reply, auth.reply);
    return reply.header('cache-control', 'no-store').send({
      scheme: 'Bearer',
      sub: auth.claims.sub,
      client_id: auth.claims.client_id,
      expiresAt: new Date(auth.claims.exp * 1000).toISOString(),
      message: 'Hello: this resource is protected by a JWT access token.',
    });
  });
}
