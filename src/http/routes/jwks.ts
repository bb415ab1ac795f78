// GET /.well-known/jwks.json: the public parts of every published signing key (RFC 7517 §5).
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { allowAnyOrigin } from '../cors.js';

export function jwksRoutes(app: FastifyInstance, g: Gatehouse): void {
  allowAnyOrigin(app, '/.well-known/jwks.json', ['GET']);
  // A resource server may cache the set no longer than a new key waits before it signs.
  const maxAge = Math.min(300, g.settings.keyPublishDelay);
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    // A rotation or revocation (by any instance, or the CLI) shows at once.
    await g.keys.current();
    return reply.header('content-type', 'application/jwk-set+json').header('cache-control', `public, max-age=${maxAge}`).send(JSON.stringify(g.keys.jwks()));
  });
}
