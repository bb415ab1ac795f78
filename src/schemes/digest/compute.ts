// RFC 7616 §3.4.1-§3.4.3 and §3.5: the response and rspauth values.
import { H, KD, baseOf, isSess, type DigestAlgorithm } from './algorithms.js';

export interface ComputeInput {
  algorithm: DigestAlgorithm;
  /** H(username ":" realm ":" password), the stored secret. */
  ha1: string;
  nonce: string;
  cnonce: string;
  ncText: string;
  qop: 'auth' | 'auth-int';
  uri: string;
}

/** H(A1), with the -sess variant's H(H(user:realm:pw) ":" nonce ":" cnonce) (§3.4.2). */
function sessionHa1(i: ComputeInput): string {
  return isSess(i.algorithm) ? H(baseOf(i.algorithm), `${i.ha1}:${i.nonce}:${i.cnonce}`) : i.ha1;
}

// H(A2) for qop=auth depends only on the algorithm, method and uri: a client repeating requests to one
// resource needs it computed once.
const a2Hashes = new Map<string, string>();

function hashA2(base: ReturnType<typeof baseOf>, a2: string, memo: boolean): string {
  if (!memo) return H(base, a2);
  const key = `${base}\0${a2}`;
  let h = a2Hashes.get(key);
  if (h === undefined) {
    if (a2Hashes.size >= 1000) a2Hashes.clear();
    h = H(base, a2);
    a2Hashes.set(key, h);
  }
  return h;
}

function digest(i: ComputeInput, a2: string): string {
  const base = baseOf(i.algorithm);
  return KD(base, sessionHa1(i), `${i.nonce}:${i.ncText}:${i.cnonce}:${i.qop}:${hashA2(base, a2, i.qop === 'auth')}`);
}

/** The request-digest the client must have sent; A2 = method ":" uri [":" H(body)] (§3.4.3). */
export function expectedResponse(i: ComputeInput, method: string, body: Buffer): string {
  const bodyPart = i.qop === 'auth-int' ? `:${H(baseOf(i.algorithm), body)}` : '';
  return digest(i, `${method}:${i.uri}${bodyPart}`);
}

/** rspauth for Authentication-Info; A2 = ":" uri [":" H(response body)] (§3.5). */
export function responseAuth(i: ComputeInput, responseBody: Buffer): string {
  const bodyPart = i.qop === 'auth-int' ? `:${H(baseOf(i.algorithm), responseBody)}` : '';
  return digest(i, `:${i.uri}${bodyPart}`);
}

/** userhash: H(username ":" realm) (§3.4.4). */
export function userhashOf(algorithm: DigestAlgorithm, username: string, realm: string): string {
  return H(baseOf(algorithm), `${username}:${realm}`);
}

/** The stored secret H(username ":" realm ":" password) (§3.4.2). */
export function ha1Of(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return H(baseOf(algorithm), `${username}:${realm}:${password}`);
}
