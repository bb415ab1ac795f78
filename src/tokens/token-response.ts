// The successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3): JSON, never cached.
import type { Reply } from '../schemes/http-auth/replies.js';

export function tokenResponse(access: { token: string; expiresIn: number }, refreshToken?: string, scope?: string, idToken?: string): Reply {
  return {
    status: 200,
    headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
    body: {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      ...(scope ? { scope } : {}),
      ...(idToken ? { id_token: idToken } : {}),
    },
  };
}
