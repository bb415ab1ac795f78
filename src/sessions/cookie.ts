// The session cookie (catalogue SS-02). Over HTTPS: __Host-gatehouse_session; Secure; HttpOnly;
// Path=/; SameSite=Lax. On plain HTTP (loopback development) the __Host- prefix requires Secure,
// so both go: gatehouse_session; HttpOnly; Path=/; SameSite=Lax.
import { parse, serialize } from 'cookie';

export function sessionCookieName(https: boolean): string {
  return https ? '__Host-gatehouse_session' : 'gatehouse_session';
}

export function readSessionCookie(header: string | undefined, https: boolean): string | undefined {
  if (!header || header.length > 8192) return undefined;
  return parse(header)[sessionCookieName(https)];
}

export function sessionCookie(id: string, https: boolean, maxAgeSeconds: number): string {
  return serialize(sessionCookieName(https), id, { httpOnly: true, secure: https, sameSite: 'lax', path: '/', maxAge: maxAgeSeconds });
}

export function clearedSessionCookie(https: boolean): string {
  return serialize(sessionCookieName(https), '', { httpOnly: true, secure: https, sameSite: 'lax', path: '/', maxAge: 0, expires: new Date(0) });
}
