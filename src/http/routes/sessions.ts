// Cookie sessions: POST /session/login, POST /session/logout, GET /api/session/resources.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { sessionLogin } from '../../sessions/login.js';
import { sessionLogout } from '../../sessions/logout.js';
import type { SessionDeps, SessionRequest } from '../../sessions/request.js';
import { sessionResource } from '../../sessions/resource.js';
import { send, toAuthRequest } from '../auth-request.js';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function sessionDeps(g: Gatehouse): SessionDeps {
  return {
    sessions: g.sessions, accounts: g.accounts, absoluteTtlSeconds: g.settings.sessionAbsoluteTtl, realm: g.settings.basicRealm,
  };
}

export function toSessionRequest(req: FastifyRequest, g: Gatehouse): SessionRequest {
  return {
    body: req.body,
    ip: req.ip,
    secureEnough: toAuthRequest(req, g.settings.allowInsecureHttp).secureEnough,
    https: req.protocol === 'https',
    cookieHeader: header(req, 'cookie'),
    origin: header(req, 'origin'),
    secFetchSite: header(req, 'sec-fetch-site'),
    csrfHeader: header(req, 'x-csrf-token'),
    ownOrigin: `${req.protocol}://${req.host}`,
  };
}

export function sessionRoutes(app: FastifyInstance, g: Gatehouse): void {
  const deps = sessionDeps(g);
  app.post('/session/login', async (req, reply) => send(reply, await sessionLogin(toSessionRequest(req, g), deps)));
  app.post('/session/logout', async (req, reply) => send(reply, await sessionLogout(toSessionRequest(req, g), deps)));
  app.get('/api/session/resources', async (req, reply) => send(reply, await sessionResource(toSessionRequest(req, g), deps)));
}
