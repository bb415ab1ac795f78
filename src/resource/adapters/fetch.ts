// The Fetch API (Request → Response): Node's own http with a small bridge, Deno, Bun, Cloudflare
// Workers, Hono, Next.js route handlers. No framework at all: `fetchProtect(verifier, requirement,
// handler)` wraps a handler; `fetchAuthenticate` returns the caller or the Response that refuses.
// The Fetch API joins repeated Authorization headers into one line, which then fails to parse (400).
import type { Reply } from '../../schemes/http-auth/replies.js';
import { compileRequirement, type Need, type Requirement } from '../requirements.js';
import type { Verifier } from '../request.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function replyResponse(reply: Reply): Response {
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  for (const [name, value] of Object.entries(reply.headers)) for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  return new Response(JSON.stringify(reply.body), { status: reply.status, headers });
}

export async function fetchAuthenticate<A>(
  verifier: Verifier<A>,
  request: Request,
  requirement?: Requirement | Need,
): Promise<{ ok: true; auth: A; headers: Record<string, string> } | { ok: false; response: Response }> {
  const url = new URL(request.url);
  const authorization = request.headers.get('authorization');
  const out = await verifier.verify(
    {
      method: request.method,
      target: url.pathname + url.search,
      authorization: authorization === null ? [] : [authorization],
      secure: url.protocol === 'https:' || LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.'),
      body: async () => new Uint8Array(await request.clone().arrayBuffer()),
    },
    requirement,
  );
  return out.ok ? { ok: true, auth: out.auth, headers: out.headers ?? {} } : { ok: false, response: replyResponse(out.reply) };
}

/** A Fetch handler that runs `handler` only for requests whose credentials meet `requirement`. */
export function fetchProtect<A>(
  verifier: Verifier<A>,
  requirement: Requirement | Need | undefined,
  handler: (request: Request, auth: A) => Response | Promise<Response>,
): (request: Request) => Promise<Response> {
  const need = compileRequirement(requirement);
  return async (request) => {
    const got = await fetchAuthenticate(verifier, request, need);
    if (!got.ok) return got.response;
    const response = await handler(request, got.auth);
    const extra = Object.entries(got.headers);
    if (extra.length === 0) return response;
    const copy = new Response(response.body, response); // headers of some responses are immutable
    for (const [name, value] of extra) copy.headers.set(name, value);
    return copy;
  };
}
