// RFC 7616 §3.4: the client's Authorization: Digest parameters, checked for form. Anything that is
// not well formed is a MalformedCredentials (400 Bad Request); whether it is *right* is decided later.
import { MalformedCredentials, parseAuthParams } from '../http-auth/credentials.js';

export interface DigestResponse {
  /** The user name as sent: plain, decoded from username*, or H(username:realm) when userhash. */
  username: string;
  userhash: boolean;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  /** As sent; absent means MD5 (RFC 7616 §3.3). */
  algorithm: string;
  qop: 'auth' | 'auth-int';
  nc: number;
  ncText: string;
  cnonce: string;
  opaque: string | undefined;
}

const REQUIRED = ['realm', 'nonce', 'uri', 'response', 'cnonce'] as const;

export function parseDigestResponse(rest: string): DigestResponse {
  const p = parseAuthParams(rest);
  for (const name of REQUIRED) {
    if (!p.get(name)) throw new MalformedCredentials(`missing ${name}`);
  }
  // RFC 7616 dropped RFC 2069 compatibility: qop is required (catalogue DG-08).
  const qop = p.get('qop');
  if (!qop) throw new MalformedCredentials('missing qop');
  if (qop !== 'auth' && qop !== 'auth-int') throw new MalformedCredentials('qop must be auth or auth-int');
  const ncText = p.get('nc') ?? '';
  if (!/^[0-9a-fA-F]{8}$/.test(ncText)) throw new MalformedCredentials('nc must be exactly 8 hex digits');
  const nc = parseInt(ncText, 16);
  if (nc === 0) throw new MalformedCredentials('nc starts at 00000001');

  const userhashParam = (p.get('userhash') ?? 'false').toLowerCase();
  if (userhashParam !== 'true' && userhashParam !== 'false') throw new MalformedCredentials('userhash must be true or false');
  const userhash = userhashParam === 'true';

  const plain = p.get('username');
  const extended = p.get('username*');
  if (plain !== undefined && extended !== undefined) throw new MalformedCredentials('username and username* together');
  let username: string;
  if (extended !== undefined) {
    if (userhash) throw new MalformedCredentials('username* cannot be used with userhash=true');
    username = decodeExtValue(extended);
  } else if (plain) {
    username = plain;
  } else {
    throw new MalformedCredentials('missing username');
  }
  if (/[\u0000-\u001f\u007f]/.test(username)) throw new MalformedCredentials('control character in username');

  const response = p.get('response')!;
  if (!/^[0-9a-fA-F]{32,128}$/.test(response)) throw new MalformedCredentials('response must be hex');
  return {
    username,
    userhash,
    realm: p.get('realm')!,
    nonce: p.get('nonce')!,
    uri: p.get('uri')!,
    response: response.toLowerCase(),
    algorithm: p.get('algorithm') ?? 'MD5',
    qop,
    nc,
    ncText,
    cnonce: p.get('cnonce')!,
    opaque: p.get('opaque'),
  };
}

/** RFC 8187 §3.2 ext-value: charset "'" [ language ] "'" value-chars. Only UTF-8 is accepted. */
export function decodeExtValue(v: string): string {
  const m = /^([A-Za-z0-9!#$%&+\-^_`{}~]+)'([A-Za-z0-9-]*)'((?:%[0-9A-Fa-f]{2}|[A-Za-z0-9!#$&+\-.^_`|~])*)$/.exec(v);
  if (!m || m[1]!.toUpperCase() !== 'UTF-8') throw new MalformedCredentials('username* is not a UTF-8 ext-value');
  const bytes: number[] = [];
  for (let i = 0; i < m[3]!.length; ) {
    if (m[3]![i] === '%') {
      bytes.push(parseInt(m[3]!.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(m[3]!.charCodeAt(i));
      i++;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    throw new MalformedCredentials('username* is not valid UTF-8');
  }
}
