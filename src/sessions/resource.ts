// GET /api/session/resources: a resource behind the session cookie. Without a live session: 401
// with a Cookie challenge (draft-broyer-http-cookie-auth), since RFC 9110 wants a challenge on 401.
import type { Reply } from '../schemes/http-auth/replies.js';
import { sessionCookieName } from './cookie.js';
import { sessionId, type SessionDeps, type SessionRequest } from './request.js';

export async function sessionResource(req: SessionRequest, deps: SessionDeps): Promise<Reply> {
  const id = sessionId(req);
  const live = await deps.sessions.find(id);
  if (!live || !id) {
    return {
      status: 401,
      headers: { 'cache-control': 'no-store', 'www-authenticate': `Cookie realm="${deps.realm}", form-action="/session/login", cookie-name="${sessionCookieName(req.https)}"` },
      body: { error: 'unauthorized', error_description: 'Log in first (POST /session/login).' },
    };
  }
  const { user, row } = live;
  return {
    status: 200,
    headers: { 'cache-control': 'no-store' },
    body: {
      scheme: 'Session',
      user: { id: user.id, username: user.username, email: user.email, displayName: user.display_name },
      session: { authTime: new Date(row.auth_time).toISOString(), expiresAt: new Date(row.expires_at).toISOString() },
      csrf_token: deps.sessions.csrfToken(id),
      message: `Hello ${user.username}: this resource is protected by a cookie session.`,
    },
  };
}
