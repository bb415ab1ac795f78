// GET and POST /api/digest/resources: a resource behind HTTP Digest (RFC 7616). The body is read as
// raw bytes, because qop=auth-int signs it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../../accounts/accounts.js';
import type { Gatehouse } from '../../gatehouse.js';
import { authenticateDigest } from '../../schemes/digest/authenticate.js';
import { send, toAuthRequest } from '../auth-request.js';

export async function digestRoutes(app: FastifyInstance, g: Gatehouse): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    // The body depends on the user, algorithm and qop only: serialised once per user object (one per
    // cached credential, so a change to the user makes a new one).
    const bodies = new WeakMap<User, Map<string, Buffer>>();
    const bodyFor = (user: User, algorithm: string, qop: string): Buffer => {
      let mine = bodies.get(user);
      if (!mine) bodies.set(user, (mine = new Map()));
      let body = mine.get(`${algorithm} ${qop}`);
      if (!body) {
        const { id, username, email, displayName } = user;
        body = Buffer.from(JSON.stringify({ scheme: 'Digest', algorithm, qop, user: { id, username, email, displayName }, message: `Hello ${username}: this resource is protected by HTTP Digest.` }));
        mine.set(`${algorithm} ${qop}`, body);
      }
      return body;
    };
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const outcome = await authenticateDigest(toAuthRequest(req, g.settings.allowInsecureHttp), g.digest);
      if (!outcome.ok) return send(reply, outcome.reply);
      const body = bodyFor(outcome.user, outcome.algorithm, outcome.qop);
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('authentication-info', outcome.authenticationInfo(body))
        .send(body);
    };
    scope.get('/api/digest/resources', handler);
    scope.post('/api/digest/resources', handler);
  });
}
