// RFC 7617 §2: credentials are base64(user-id ":" password), decoded as UTF-8 (we announce
// charset="UTF-8", §2.1), split at the first colon. No Latin-1 fallback: invalid UTF-8 is refused, so a
// password has exactly one byte form (catalogue BA-04).
import { MalformedCredentials, parseToken68 } from '../http-auth/credentials.js';

export interface BasicCredentials {
  userId: string;
  password: string;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function parseBasic(rest: string): BasicCredentials {
  const token = parseToken68(rest);
  if (!STRICT_BASE64.test(token)) throw new MalformedCredentials('not base64');
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(token, 'base64'));
  } catch {
    throw new MalformedCredentials('not UTF-8');
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new MalformedCredentials('no colon');
  // RFC 7617 §2: user-id and password must not contain control characters.
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new MalformedCredentials('control character');
  return { userId: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
