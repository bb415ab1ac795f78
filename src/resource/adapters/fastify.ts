// Fastify 5. Register the plugin once; it gives every request an `auth` (null until a route's hook
// fills it) and the instance `protect(requirement?, verifier?)`, a hook for a route's `onRequest`
// (before the body is read: the usual place) or `preHandler` (when Digest qop=auth-int needs the
// body). `fastifyProtect` is the same hook without the plugin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { compileRequirement, type Need, type Requirement } from '../requirements.js';
import type { Authenticated, Verifier } from '../request.js';
import { fromNode, parsedForm } from './node.js';

export type FastifyProtectHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once a Gatehouse `protect` hook has run (see gatehouse/resource). */
    auth: Authenticated | null;
  }
  interface FastifyInstance {
    /** A hook that lets a request through only with credentials that meet `requirement`. */
    protect(requirement?: Requirement | Need, verifier?: Verifier<Authenticated>): FastifyProtectHook;
  }
}

export interface FastifyResourceOptions {
  /** The default verifier of `protect`: a ResourceServer, or a Basic or Digest verifier. */
  verifier: Verifier<Authenticated>;
}

export function fastifyProtect(verifier: Verifier<Authenticated>, requirement?: Requirement | Need): FastifyProtectHook {
  const need = compileRequirement(requirement);
  return async function protect(request: FastifyRequest, reply: FastifyReply) {
    const raw = request.raw;
    const out = await verifier.verify(fromNode(raw, { https: request.protocol === 'https', ip: request.ip, form: parsedForm(raw, request.body), body: request.body }), need);
    if (!out.ok) return reply.code(out.reply.status).headers(out.reply.headers).send(out.reply.body);
    request.auth = out.auth;
    if (out.headers) reply.headers(out.headers);
    return undefined;
  };
}

async function plugin(app: FastifyInstance, options: FastifyResourceOptions): Promise<void> {
  if (!options?.verifier) throw new TypeError('gatehouse/resource: register the Fastify plugin with { verifier }');
  if (!app.hasRequestDecorator('auth')) app.decorateRequest('auth', null);
  app.decorate('protect', (requirement?: Requirement | Need, verifier: Verifier<Authenticated> = options.verifier) => fastifyProtect(verifier, requirement));
}

/** `await app.register(fastifyResource, { verifier })`. Not encapsulated (as with fastify-plugin):
 * `protect` and `request.auth` are visible to the whole application. */
export const fastifyResource = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'gatehouse-resource',
});
