// CORS for the endpoints that browser applications call from their own origin: OIDC Discovery,
// the JWKS and UserInfo (the implicit and hybrid flows exist for such applications). Any origin, and
// never credentials: these endpoints answer to a bearer token or to anyone, never to our cookies. The
// authorization, token and session endpoints send no CORS headers at all (catalogue AZ-26).
import type { FastifyInstance } from 'fastify';

export const ANY_ORIGIN = { 'access-control-allow-origin': '*' } as const;

/** Answer preflights for `path` and mark its responses readable by any origin. */
export function allowAnyOrigin(app: FastifyInstance, path: string, methods: string[]): void {
  app.addHook('onSend', async (req, reply) => {
    if (req.routeOptions.url === path) reply.header('access-control-allow-origin', '*');
  });
  app.options(path, async (_req, reply) =>
    reply
      .code(204)
      .headers({ ...ANY_ORIGIN, 'access-control-allow-methods': methods.join(', '), 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' })
      .send(),
  );
}
