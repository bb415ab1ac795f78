// What the Fastify and Express adapters share: both sit on node:http, so the request's Authorization
// lines are read from rawHeaders (every line, so two headers are seen as two) and the target from
// the request line as received.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isLoopback } from '../../http/auth-request.js';
import type { ResourceRequest } from '../request.js';

export function authorizationLines(raw: IncomingMessage): string[] {
  const out: string[] = [];
  const h = raw.rawHeaders;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]!.length === 13 && h[i]!.toLowerCase() === 'authorization') out.push(h[i + 1]!);
  }
  return out;
}

/** The ResourceRequest of a node:http request. `https`: what the framework knows about the scheme
 * (a trusted proxy's X-Forwarded-Proto); `ip`: the client address it trusts. */
export function fromNode(raw: IncomingMessage, o: { https: boolean; ip: string | undefined; form?: unknown; body?: unknown }): ResourceRequest {
  const encrypted = (raw.socket as TLSSocket | undefined)?.encrypted === true;
  const ip = o.ip ?? raw.socket?.remoteAddress ?? '';
  const body = o.body;
  return {
    method: raw.method ?? 'GET',
    target: raw.url ?? '/',
    authorization: authorizationLines(raw),
    secure: o.https || encrypted || isLoopback(ip),
    form: o.form,
    // Only a body the framework already read as bytes (Digest auth-int needs them).
    body: body instanceof Uint8Array ? async () => body : undefined,
  };
}

/** A parsed form body (to refuse a token there), or undefined. */
export function parsedForm(raw: IncomingMessage, body: unknown): unknown {
  return /^application\/x-www-form-urlencoded/i.test(String(raw.headers['content-type'] ?? '')) && body !== null && typeof body === 'object' && !(body instanceof Uint8Array) ? body : undefined;
}
