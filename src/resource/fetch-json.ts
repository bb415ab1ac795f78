// Requests to the authorization server: a timeout on each, no redirects followed, a bound on the
// size of the answer, a JSON object or nothing. Every failure is IssuerUnavailable, and the request
// that needed the answer gets 503: without the authorization server nothing is decided.
import { IssuerUnavailable } from './errors.js';

export const MAX_RESPONSE_CHARS = 256 * 1024;

export interface HttpOptions {
  fetch: typeof fetch;
  timeoutMs: number;
}

/** The answer's status and, when it is one, its JSON object. Network errors, timeouts, redirects and
 * oversized answers throw IssuerUnavailable; `what` names the request in that message. */
export async function fetchJson(http: HttpOptions, url: string, init: RequestInit, what: string): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  let res: Response;
  try {
    res = await http.fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(http.timeoutMs), headers: { accept: 'application/json', ...(init.headers as Record<string, string>) } });
  } catch (err) {
    throw new IssuerUnavailable(`${what}: ${(err as Error).name === 'TimeoutError' ? `no answer within ${http.timeoutMs} ms` : 'the request failed'}`);
  }
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_RESPONSE_CHARS) {
    await res.body?.cancel().catch(() => {});
    throw new IssuerUnavailable(`${what}: the answer is too large`);
  }
  let text: string;
  try {
    text = await res.text();
  } catch {
    throw new IssuerUnavailable(`${what}: the answer was cut off`);
  }
  if (text.length > MAX_RESPONSE_CHARS) throw new IssuerUnavailable(`${what}: the answer is too large`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  return { status: res.status, body: isObject ? (body as Record<string, unknown>) : undefined };
}

/** A 200 answer's JSON object, or IssuerUnavailable. */
export async function getJson(http: HttpOptions, url: string, what: string): Promise<Record<string, unknown>> {
  const { status, body } = await fetchJson(http, url, { method: 'GET' }, what);
  if (status !== 200 || !body) throw new IssuerUnavailable(`${what}: answered ${status}${body ? '' : ' without a JSON object'}`);
  return body;
}
