// An independent Digest client for tests (RFC 7616), written apart from the server code so that a
// shared mistake cannot hide. It parses challenges and builds Authorization values with any field
// overridden, for tampering tests.
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  algorithm: string;
  realm: string;
  nonce: string;
  opaque: string;
  qop: string;
  stale?: string;
  userhash?: string;
  charset?: string;
  [k: string]: string | undefined;
}

/** Parse every `Digest …` challenge of the WWW-Authenticate field lines. */
export function parseChallenges(lines: string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const line of lines) {
    const m = /^Digest\s+(.*)$/i.exec(line.trim());
    if (!m) continue;
    const params: Record<string, string> = {};
    const re = /([A-Za-z0-9*_-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
    let p: RegExpExecArray | null;
    while ((p = re.exec(m[1]!))) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    out.push(params as unknown as Challenge);
  }
  return out;
}

const HASH: Record<string, string> = { 'MD5': 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

export function h(algorithm: string, data: string | Buffer): string {
  const base = algorithm.replace(/-sess$/i, '').toUpperCase();
  return createHash(HASH[base]!).update(data).digest('hex');
}

export interface AnswerOptions {
  username: string;
  password: string;
  method?: string;
  uri: string;
  qop?: 'auth' | 'auth-int';
  nc?: number | string;
  cnonce?: string;
  body?: Buffer | string;
  userhash?: boolean;
  /** Send the name as username* (RFC 8187) instead of username. */
  extendedUsername?: boolean;
  /** Replace or remove (undefined) fields after computing the response. */
  override?: Record<string, string | undefined>;
  /** Compute with this algorithm but keep the challenge's name in the header (or vice versa). */
  computeAlgorithm?: string;
}

export interface Answer {
  header: string;
  response: string;
  /** The rspauth the server should send back for a given response body. */
  rspauth(responseBody: Buffer | string): string;
  ha1: string;
}

export function answer(ch: Challenge, o: AnswerOptions): Answer {
  const alg = o.computeAlgorithm ?? ch.algorithm;
  const qop = o.qop ?? 'auth';
  const nc = typeof o.nc === 'string' ? o.nc : (o.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = o.cnonce ?? randomBytes(8).toString('hex');
  const body = o.body ?? '';
  let ha1 = h(alg, `${o.username}:${ch.realm}:${o.password}`);
  if (/-sess$/i.test(alg)) ha1 = h(alg, `${ha1}:${ch.nonce}:${cnonce}`);
  const a2 = qop === 'auth-int' ? `${o.method ?? 'GET'}:${o.uri}:${h(alg, body)}` : `${o.method ?? 'GET'}:${o.uri}`;
  const response = h(alg, `${ha1}:${ch.nonce}:${nc}:${cnonce}:${qop}:${h(alg, a2)}`);
  const fields: Record<string, string | undefined> = {};
  if (o.extendedUsername) fields['username*'] = `UTF-8''${encodeURIComponent(o.username)}`;
  else fields.username = `"${o.userhash ? h(alg, `${o.username}:${ch.realm}`) : o.username}"`;
  Object.assign(fields, {
    realm: `"${ch.realm}"`,
    uri: `"${o.uri}"`,
    algorithm: ch.algorithm,
    nonce: `"${ch.nonce}"`,
    nc,
    cnonce: `"${cnonce}"`,
    qop,
    response: `"${response}"`,
    opaque: `"${ch.opaque}"`,
  });
  if (o.userhash) fields.userhash = 'true';
  for (const [k, v] of Object.entries(o.override ?? {})) fields[k] = v;
  const header = 'Digest ' + Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(', ');
  return {
    header,
    response,
    ha1,
    rspauth: (rb) => {
      const a2r = qop === 'auth-int' ? `:${o.uri}:${h(alg, rb)}` : `:${o.uri}`;
      return h(alg, `${ha1}:${ch.nonce}:${nc}:${cnonce}:${qop}:${h(alg, a2r)}`);
    },
  };
}
