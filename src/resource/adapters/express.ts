// Express 5 and Connect: a middleware per route. It uses only node:http (nothing of Express is
// imported, so Express is not a dependency); with Express it honours `trust proxy` through req.ip and
// req.secure. On success req.auth holds the caller; a refusal is sent as JSON with its challenge.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Reply } from '../../schemes/http-auth/replies.js';
import { compileRequirement, type Need, type Requirement } from '../requirements.js';
import type { Authenticated, Verifier } from '../request.js';
import { fromNode, parsedForm } from './node.js';

declare global {
  namespace Express {
    interface Request {
      /** The caller, once a Gatehouse `expressProtect` middleware has run (see gatehouse/resource). */
      auth?: Authenticated;
    }
  }
}

/** The parts of an Express (or Connect) request the middleware reads. */
type NodeRequest = IncomingMessage & { auth?: Authenticated; body?: unknown; ip?: string; secure?: boolean };

export type Middleware = (req: NodeRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

function sendReply(res: ServerResponse, reply: Reply): void {
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(reply.body));
}

export function expressProtect(verifier: Verifier<Authenticated>, requirement?: Requirement | Need): Middleware {
  const need = compileRequirement(requirement);
  return function protect(req, res, next) {
    verifier.verify(fromNode(req, { https: req.secure === true, ip: req.ip, form: parsedForm(req, req.body), body: req.body }), need).then((out) => {
      if (!out.ok) return sendReply(res, out.reply);
      req.auth = out.auth;
      if (out.headers) for (const [name, value] of Object.entries(out.headers)) res.setHeader(name, value);
      next();
    }, next);
  };
}
