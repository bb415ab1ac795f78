// RFC 7636 §4.3, RFC 9700 §2.1.1: a code request carries code_challenge with method S256 (required
// for public clients, and for all while GATEHOUSE_PKCE_REQUIRED is on); `plain` is refused.
import type { ClientRow } from '../../store/clients.js';
import { isValidChallenge } from '../pkce.js';
import type { AuthorizeParams } from './request.js';

export function checkPkce(params: AuthorizeParams, client: ClientRow, requiredForAll: boolean): { challenge: string | null } | { description: string } {
  const challenge = params.code_challenge;
  const method = params.code_challenge_method;
  if (challenge === undefined) {
    if (method !== undefined) return { description: 'code_challenge_method without code_challenge.' };
    if (requiredForAll || client.type === 'public') return { description: 'PKCE is required: send code_challenge with code_challenge_method=S256.' };
    return { challenge: null };
  }
  if (method !== 'S256') return { description: 'code_challenge_method must be S256 (plain is not accepted).' };
  if (!isValidChallenge(challenge)) return { description: 'code_challenge must be the base64url SHA-256 of the verifier (43 characters).' };
  return { challenge };
}
