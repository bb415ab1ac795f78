// Public endpoints: an index of what to try, a public resource, and the health probes.
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';

export function serviceRoutes(app: FastifyInstance, g: Gatehouse): void {
  app.get('/', async () => ({
    name: 'Gatehouse',
    issuer: g.settings.issuer,
    endpoints: {
      public: '/api/public',
      basic: '/api/basic/resources',
      digest: '/api/digest/resources',
      health: '/health',
      ready: '/ready',
    },
  }));
  app.get('/api/public', async () => ({ message: 'This resource is public.' }));
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/ready', async (_req, reply) => {
    try {
      await g.store.ping();
      return { status: 'ready' };
    } catch {
      return reply.code(503).header('retry-after', '5').send({ status: 'unavailable', error: 'temporarily_unavailable' });
    }
  });
}
