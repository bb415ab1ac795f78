// The start every password scheme shares (RFC 9110 §11): the precheck (one Authorization header, not
// too large, a secure transport), the scheme name, and the scheme's own parser.
import { MalformedCredentials, splitCredentials } from '../schemes/http-auth/credentials.js';
import { precheck, type Reply } from '../schemes/http-auth/replies.js';
import { toAuthRequest, type ResourceRequest } from './request.js';

export type Read<T> =
  | { kind: 'reply'; reply: Reply } // the precheck refused the request (400, 403)
  | { kind: 'none' } // no credentials of this scheme
  | { kind: 'malformed'; message: string }
  | { kind: 'ok'; value: T };

export function readCredentials<T>(req: ResourceRequest, scheme: string, parse: (rest: string) => T, allowInsecureHttp = false): Read<T> {
  const pre = precheck(toAuthRequest(allowInsecureHttp ? { ...req, secure: true } : req));
  if (!('value' in pre)) return { kind: 'reply', reply: pre };
  if (pre.value === undefined) return { kind: 'none' };
  try {
    const split = splitCredentials(pre.value);
    return split.scheme === scheme ? { kind: 'ok', value: parse(split.rest) } : { kind: 'none' };
  } catch (err) {
    if (err instanceof MalformedCredentials) return { kind: 'malformed', message: err.message };
    throw err;
  }
}
