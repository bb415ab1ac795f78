// The username-and-password step shared by the JWT login and the session login: transport check,
// the form fields, then the shared password path (throttle included, catalogue JW-24: an unknown
// user and a wrong password get the same answer).
import { errorReply, insecureTransport, tooManyAttempts, type Reply } from '../schemes/http-auth/replies.js';
import type { Accounts, User } from './accounts.js';

export interface LoginForm {
  body: unknown;
  ip: string;
  secureEnough: boolean;
}

export async function checkLoginForm(input: LoginForm, accounts: Accounts): Promise<{ user: User } | { reply: Reply }> {
  if (!input.secureEnough) return { reply: insecureTransport() };
  const body = input.body && typeof input.body === 'object' ? (input.body as Record<string, unknown>) : {};
  const { username, password } = body;
  if (typeof username !== 'string' || typeof password !== 'string' || username === '' || password === '') {
    return { reply: errorReply(400, 'invalid_request', 'Send a username and a password (JSON or form).') };
  }
  if (username.length > 256 || password.length > 4096) return { reply: errorReply(400, 'invalid_grant', 'The username or password is incorrect.') };
  const result = await accounts.passwordLogin(username, password, input.ip, { useCache: false });
  if (result.kind === 'wait') return { reply: tooManyAttempts(result.retryAfter) };
  if (result.kind === 'fail') return { reply: errorReply(400, 'invalid_grant', 'The username or password is incorrect.') };
  return { user: result.user };
}
