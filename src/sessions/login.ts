// POST /session/login: username and password (form or JSON) → a new server-side session and its
// cookie. The session the browser brought (if any) ends: a login never keeps an id (SS-01).
import { checkLoginForm } from '../accounts/login-form.js';
import type { Reply } from '../schemes/http-auth/replies.js';
import { sessionCookie } from './cookie.js';
import { crossSite, sessionId, type SessionDeps, type SessionRequest } from './request.js';

export async function sessionLogin(req: SessionRequest, deps: SessionDeps): Promise<Reply> {
  const refused = crossSite(req);
  if (refused) return refused;
  const checked = await checkLoginForm(req, deps.accounts);
  if ('reply' in checked) return checked.reply;
  const { id, row } = await deps.sessions.create(checked.user.id, sessionId(req));
  const { id: userId, username, email, displayName } = checked.user;
  return {
    status: 200,
    headers: { 'cache-control': 'no-store', 'set-cookie': sessionCookie(id, req.https, deps.absoluteTtlSeconds) },
    body: {
      user: { id: userId, username, email, displayName },
      csrf_token: deps.sessions.csrfToken(id),
      expires_at: new Date(row.expires_at).toISOString(),
    },
  };
}
