// POST /auth/login: username and password (JSON or form) → an access token and a refresh token
// that starts a new family. Failed logins count toward the shared throttle.
import { checkLoginForm, type LoginForm } from '../accounts/login-form.js';
import type { Reply } from '../schemes/http-auth/replies.js';
import { tokenResponse } from '../tokens/token-response.js';
import { JWT_LOGIN_CLIENT, type JwtLoginDeps } from './deps.js';

export async function login(input: LoginForm, deps: JwtLoginDeps): Promise<Reply> {
  const checked = await checkLoginForm(input, deps.accounts);
  if ('reply' in checked) return checked.reply;
  const { user } = checked;
  const now = deps.clock.now();
  const family = await deps.families.start({ userId: user.id, clientId: JWT_LOGIN_CLIENT, scope: '', authTime: now });
  const access = await deps.tokens.issue({ subject: user.id, clientId: JWT_LOGIN_CLIENT, authTime: now });
  return tokenResponse(access, family.token);
}
