// GET /api/basic/resources: a resource behind HTTP Basic (RFC 7617).
import type { FastifyInstance } from 'fastify';
import type { User } from '../../accounts/accounts.js';
import type { Gatehouse } from '../../gatehouse.js';
import { authenticateBasic, type BasicDeps } from '../../schemes/basic/authenticate.js';
import { send, toAuthRequest } from '../auth-request.js';

export function basicRoutes(app: FastifyInstance, g: Gatehouse): void {
  const deps: BasicDeps = {
    realm: g.settings.basicRealm,
    accounts: g.accounts,
    recordMalformed: (ip) => g.throttle.failureFromAddress(ip),
  };
  // The body depends on the user only: serialised once per user object (accounts memoizes those
  // per cached row, so a change to the user makes a new one).
  const bodies = new WeakMap<User, string>();
  const bodyFor = (user: User): string => {
    let body = bodies.get(user);
    if (body === undefined) {
      const { id, username, email, displayName } = user;
      body = JSON.stringify({ scheme: 'Basic', user: { id, username, email, displayName }, message: `Hello ${username}: this resource is protected by HTTP Basic.` });
      bodies.set(user, body);
    }
    return body;
  };
  app.get('/api/basic/resources', async (req, reply) => {
    const outcome = await authenticateBasic(toAuthRequest(req, g.settings.allowInsecureHttp), deps);
    if (!outcome.ok) return send(reply, outcome.reply);
    return reply.header('cache-control', 'no-store').type('application/json; charset=utf-8').send(bodyFor(outcome.user));
  });
}
