// OpenID Connect: GET /.well-known/openid-configuration, GET|POST /oidc/userinfo, GET|POST
// /oidc/logout (RP-initiated logout). ID tokens come from the OAuth routes (authorize, token).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { openidConfiguration, USERINFO_PATH } from '../../oidc/discovery.js';
import { endSessionEndpoint } from '../../oidc/logout/end-session.js';
import { userinfoEndpoint } from '../../oidc/userinfo.js';
import { END_SESSION_PATH } from '../../ui/pages.js';
import { send, toAuthRequest } from '../auth-request.js';
import { allowAnyOrigin } from '../cors.js';
import { BEARER_REALM } from './jwt-login.js';
import { sessionDeps, toSessionRequest } from './sessions.js';

const isForm = (req: FastifyRequest) => /^application\/x-www-form-urlencoded\s*(;|$)/i.test(String(req.headers['content-type'] ?? ''));
const formOf = (req: FastifyRequest) => (req.method === 'POST' && isForm(req) ? ((req.body as Record<string, string> | undefined) ?? {}) : undefined);

export function oidcRoutes(app: FastifyInstance, g: Gatehouse): void {
  allowAnyOrigin(app, '/.well-known/openid-configuration', ['GET']);
  allowAnyOrigin(app, USERINFO_PATH, ['GET', 'POST']);
  app.get('/.well-known/openid-configuration', async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(openidConfiguration(g.oauth)));
  const userinfo = async (req: FastifyRequest) => userinfoEndpoint({ ...toAuthRequest(req, g.settings.allowInsecureHttp), form: formOf(req) }, g.oauth, BEARER_REALM);
  app.get(USERINFO_PATH, async (req, reply) => send(reply, await userinfo(req)));
  app.post(USERINFO_PATH, async (req, reply) => send(reply, await userinfo(req)));
  const endSession = async (req: FastifyRequest) => {
    const url = req.raw.url ?? '';
    const q = url.indexOf('?');
    return endSessionEndpoint({ ...toSessionRequest(req, g), method: req.method === 'POST' ? 'POST' : 'GET', query: q < 0 ? '' : url.slice(q + 1), form: formOf(req) }, g.oauth, sessionDeps(g));
  };
  app.get(END_SESSION_PATH, async (req, reply) => send(reply, await endSession(req)));
  app.post(END_SESSION_PATH, async (req, reply) => send(reply, await endSession(req)));
}
