// POST /auth/refresh: { refresh_token } → a new pair (rules in tokens/refresh-families.ts). Every
// refusal is invalid_grant with one description: the answer does not say why.
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import { tokenResponse } from '../tokens/token-response.js';
import { field, JWT_LOGIN_CLIENT, type JwtLoginDeps } from './deps.js';

export async function refresh(body: unknown, deps: JwtLoginDeps): Promise<Reply> {
  const presented = field(body, 'refresh_token');
  if (typeof presented !== 'string' || presented === '') return errorReply(400, 'invalid_request', 'Send the refresh_token.');
  const outcome = await deps.families.rotate(presented, JWT_LOGIN_CLIENT);
  if (outcome.kind !== 'rotated') return errorReply(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
  const { family } = outcome;
  const access = await deps.tokens.issue({ subject: family.user_id, clientId: JWT_LOGIN_CLIENT, authTime: family.auth_time });
  return tokenResponse(access, outcome.token);
}
