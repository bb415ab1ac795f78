// RFC 6750 §2: where the token may come from. The Authorization header (§2.1), always; the URI query
// (§2.3) only when the resource server allows it (off by default: URLs end up in logs and Referer
// headers, RFC 9700 §4.3.2, catalogue RS-09); never the form body. Two ways at once, or a repeated
// query parameter, is a 400 invalid_request.
import { extractBearer } from '../schemes/bearer/authenticate.js';
import { bearerError } from '../schemes/bearer/challenge.js';
import { insecureTransport, type Reply } from '../schemes/http-auth/replies.js';
import { toAuthRequest, type ResourceRequest } from './request.js';

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/; // RFC 6750 §2.1 b64token

function formHasToken(form: unknown): boolean {
  return form !== null && typeof form === 'object' && Object.prototype.hasOwnProperty.call(form, 'access_token');
}

export function bearerToken(req: ResourceRequest, realm: string, allowQuery: boolean): { token: string; fromQuery: boolean } | { reply: Reply } {
  if (formHasToken(req.form)) return { reply: bearerError(realm, 'invalid_request', 'Send the access token in the Authorization header, not in the body.') };
  const q = req.target.indexOf('?');
  if (!allowQuery || q < 0 || !req.target.includes('access_token', q)) {
    const got = extractBearer(toAuthRequest(req), realm);
    return 'reply' in got ? got : { token: got.token, fromQuery: false };
  }
  const values = new URLSearchParams(req.target.slice(q + 1)).getAll('access_token');
  if (values.length === 0) {
    const got = extractBearer(toAuthRequest(req, req.target.slice(0, q)), realm);
    return 'reply' in got ? got : { token: got.token, fromQuery: false };
  }
  if (values.length > 1 || req.authorization.length > 0) return { reply: bearerError(realm, 'invalid_request', 'Send the access token one way only.') };
  if (!req.secure) return { reply: insecureTransport() };
  if (!B64TOKEN.test(values[0]!)) return { reply: bearerError(realm, 'invalid_request', 'The access_token parameter does not hold a bearer token.') };
  return { token: values[0]!, fromQuery: true };
}
