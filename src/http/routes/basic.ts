// GET /api/basic/resources: a resource behind HTTP Basic (RFC 7617).
import type { FastifyInstance } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { authenticateBasic, type BasicDeps } from '../../schemes/basic/authenticate.js';
import { send, toAuthRequest } from '../auth-request.js';

export function basicRoutes(app: FastifyInstance, g: Gatehouse): void {
  const deps: BasicDeps = {
    realm: g.settings.basicRealm,
    accounts: g.accounts,
    recordMalformed: (ip) => g.throttle.failureFromAddress(ip),
  };
  app.get('/api/basic/resources', async (req, reply) => {
    const outcome = await authenticateBasic(toAuthRequest(req, g.settings.allowInsecureHttp), deps);
    if (!outcome.ok) return send(reply, outcome.reply);
    const { id, username, email, displayName } = outcome.user;
    return reply.header('cache-control', 'no-store').send({
      scheme: 'Basic',
      user: { id, username, email, displayName },
      message: `Hello ${username}: this resource is protected by HTTP Basic.`,
    });
  });
}
