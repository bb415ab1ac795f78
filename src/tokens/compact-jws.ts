// The strict shape checks a JWS compact serialization passes before any key is looked up or any
// signature checked (catalogue JW-13, JW-15, JW-16): bounded size, exactly three segments, canonical
// base64url, JSON objects without duplicate members.
import { hasDuplicateMembers } from './json-members.js';

export const MAX_JWT_LENGTH = 8192;

export class MalformedJwt extends Error {}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Decode one segment, refusing padding, the standard alphabet, whitespace and non-zero trailing bits. */
function segment(text: string, what: string): Buffer {
  if (!B64URL.test(text)) throw new MalformedJwt(`${what} is not base64url`);
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new MalformedJwt(`${what} is not canonical base64url`);
  return bytes;
}

function object(bytes: Buffer, what: string): Record<string, unknown> {
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  if (hasDuplicateMembers(text)) throw new MalformedJwt(`${what} names a member twice`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedJwt(`${what} is not JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new MalformedJwt(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

export interface CompactJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

export function parseCompactJws(token: string): CompactJws {
  if (token.length > MAX_JWT_LENGTH) throw new MalformedJwt('the token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new MalformedJwt('a JWS has three segments');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = object(segment(parts[0]!, 'the header'), 'the header');
    payload = object(segment(parts[1]!, 'the payload'), 'the payload');
  } catch (err) {
    if (err instanceof MalformedJwt) throw err;
    throw new MalformedJwt('the token is not UTF-8 JSON');
  }
  segment(parts[2]!, 'the signature');
  return { header, payload };
}
