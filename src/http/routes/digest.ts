// GET and POST /api/digest/resources: a resource behind HTTP Digest (RFC 7616). The body is read as
// raw bytes, because qop=auth-int signs it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Gatehouse } from '../../gatehouse.js';
import { authenticateDigest } from '../../schemes/digest/authenticate.js';
import { send, toAuthRequest } from '../auth-request.js';

export async function digestRoutes(app: FastifyInstance, g: Gatehouse): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    const handler = async (req: FastifyRequest, reply: FastifyReply) => {
      const outcome = await authenticateDigest(toAuthRequest(req, g.settings.allowInsecureHttp), g.digest);
      if (!outcome.ok) return send(reply, outcome.reply);
      const { id, username, email, displayName } = outcome.user;
      const body = Buffer.from(JSON.stringify({
        scheme: 'Digest',
        algorithm: outcome.algorithm,
        qop: outcome.qop,
        user: { id, username, email, displayName },
        message: `Hello ${username}: this resource is protected by HTTP Digest.`,
      }));
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
