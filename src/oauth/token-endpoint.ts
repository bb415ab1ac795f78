// RFC 6749 §3.2: the token endpoint. POST, application/x-www-form-urlencoded, client authentication
// (client-auth.ts), then the grant. Answers are JSON with Cache-Control: no-store (§5.1, §5.2).
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import { authenticateClient } from './client-auth.js';
import { toClient, type GrantType } from './clients.js';
import type { OAuthDeps } from './deps.js';
import { authorizationCodeGrant } from './grants/authorization-code.js';
import { clientCredentialsGrant } from './grants/client-credentials.js';
import { passwordGrant } from './grants/password.js';
import { refreshTokenGrant } from './grants/refresh-token.js';

export const TOKEN_GRANTS: GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials', 'password'];

export interface TokenRequest {
  /** The parsed form, or undefined when the body was not a form. */
  form: Record<string, string> | undefined;
  authorization: string[];
  ip: string;
  secureEnough: boolean;
}

/** What the token, revocation and introspection endpoints check before anything else: a form body,
 * and a transport that keeps the client's secret and the tokens confidential (RFC 6749 §3.2, RFC
 * 7009 §5, RFC 7662 §4: TLS; plain HTTP only from this machine or with --allow-insecure-http). */
export function checkTokenRequest(req: TokenRequest, endpoint: string): Reply | undefined {
  if (!req.form) return errorReply(400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
  if (!req.secureEnough) return errorReply(403, 'insecure_transport', `The ${endpoint} endpoint is served only over HTTPS (or to this machine).`);
  return undefined;
}

export async function tokenEndpoint(req: TokenRequest, deps: OAuthDeps): Promise<Reply> {
  const refused = checkTokenRequest(req, 'token');
  if (refused || !req.form) return refused!;
  const body = req.form;
  const auth = await authenticateClient({ authorization: req.authorization, body, realm: deps.realm }, deps.clients);
  if ('reply' in auth) return auth.reply;
  const grantType = body.grant_type;
  if (!grantType) return errorReply(400, 'invalid_request', 'Send grant_type.');
  if (!(TOKEN_GRANTS as string[]).includes(grantType)) return errorReply(400, 'unsupported_grant_type', `This grant_type is not supported; use one of ${TOKEN_GRANTS.join(', ')}.`);
  if (!toClient(auth.client).grantTypes.includes(grantType as GrantType)) return errorReply(400, 'unauthorized_client', `This client may not use the ${grantType} grant.`);
  switch (grantType as GrantType) {
    case 'client_credentials':
      return clientCredentialsGrant(auth.client, body, deps);
    case 'password':
      return passwordGrant(auth.client, body, req.ip, deps);
    case 'refresh_token':
      return refreshTokenGrant(auth.client, body, deps);
    default:
      return authorizationCodeGrant(auth.client, body, deps);
  }
}
