// Signing the JWTs this server builds (access tokens, ID tokens, logout tokens): jose's JWS compact
// serialization over the JSON of claims we assembled ourselves. (jose's SignJWT would copy and
// re-validate every claim first; the verifiers check what matters.)
import { CompactSign } from 'jose';
import type { SigningKey } from '../keys/signing-key.js';

const encoder = new TextEncoder();

export function signJwt(claims: object, key: SigningKey, typ: string): Promise<string> {
  return new CompactSign(encoder.encode(JSON.stringify(claims))).setProtectedHeader({ alg: key.alg, kid: key.kid, typ }).sign(key.privateKey);
}
