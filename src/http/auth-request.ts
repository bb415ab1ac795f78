// Translate a Fastify request into the plain AuthRequest the schemes take.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthRequest, Reply } from '../schemes/http-auth/replies.js';

export function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}

export function toAuthRequest(req: FastifyRequest, allowInsecureHttp: boolean): AuthRequest {
  const raw = req.raw.rawHeaders;
  const authorization: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === 'authorization') authorization.push(raw[i + 1]!);
  }
  return {
    method: req.method,
    target: req.raw.url ?? req.url,
    host: req.headers.host,
    authorization,
    body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    ip: req.ip,
    secureEnough: allowInsecureHttp || req.protocol === 'https' || isLoopback(req.ip),
  };
}

export function send(reply: FastifyReply, r: Reply): FastifyReply {
  return reply.code(r.status).headers(r.headers).send(r.body);
}
