// The Fastify application: routes translate HTTP to the protocol modules and back. Errors become
// clear JSON answers; a database outage fails closed with 503 (catalogue R-04).
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { OverloadedError } from '../crypto/semaphore.js';
import type { Gatehouse } from '../gatehouse.js';
import { safeDescription } from '../schemes/http-auth/replies.js';
import { isStoreUnavailable } from '../store/errors.js';
import { basicRoutes } from './routes/basic.js';
import { digestRoutes } from './routes/digest.js';
import { acceptForms } from './form-body.js';
import { jwksRoutes } from './routes/jwks.js';
import { jwtLoginRoutes } from './routes/jwt-login.js';
import { oauthRoutes } from './routes/oauth.js';
import { oidcRoutes } from './routes/oidc.js';
import { sessionRoutes } from './routes/sessions.js';
import { serviceRoutes } from './routes/service.js';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

export async function buildApp(g: Gatehouse): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: g.settings.logLevel,
      // Request logging below never includes headers. Fastify's client-error log carries the raw
      // request bytes (rawPacket, with any Authorization header): cut those and anything else that
      // might hold a secret (catalogue ST-08).
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'password', 'refresh_token', 'access_token', 'err.rawPacket', 'rawPacket'], censor: '[redacted]' },
    },
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: g.settings.trustProxy,
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
  });

  // Defaults: a page that needs its own CSP (the login and consent pages) sets it first.
  app.addHook('onSend', async (_req, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });
  const logRequests = ['info', 'debug', 'trace'].includes(g.settings.logLevel);
  app.addHook('onResponse', async (req, reply) => {
    if (!logRequests) return;
    // Path only: a query string may one day carry a code or token.
    req.log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ error: 'not_found', error_description: 'No such endpoint.' }));

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err instanceof OverloadedError) {
      return reply.code(503).header('retry-after', '1').send({ error: 'temporarily_unavailable', error_description: 'The server is busy. Try again shortly.' });
    }
    if (isStoreUnavailable(err)) {
      req.log.error({ code: (err as { code?: unknown }).code }, 'database unavailable');
      return reply.code(503).header('retry-after', '5').send({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable.' });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'unexpected error');
      return reply.code(500).send({ error: 'server_error', error_description: 'An unexpected error occurred.' });
    }
    return reply.code(status).header('cache-control', 'no-store').send({ error: 'invalid_request', error_description: safeDescription(err.message) });
  });

  acceptForms(app);
  serviceRoutes(app, g);
  basicRoutes(app, g);
  jwksRoutes(app, g);
  jwtLoginRoutes(app, g);
  sessionRoutes(app, g);
  oauthRoutes(app, g, { authorizationEndpoint: true });
  oidcRoutes(app, g);
  await digestRoutes(app, g);
  return app;
}
