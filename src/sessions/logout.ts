// POST /session/logout: ends the session server-side and clears the cookie (SS-04). A cookie alone
// is not enough: the request must come from our own origin and carry the session's CSRF token
// (X-CSRF-Token header or csrf_token field), so another site cannot log a user out.
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import { clearedSessionCookie } from './cookie.js';
import { crossSite, sessionId, type SessionDeps, type SessionRequest } from './request.js';

export async function sessionLogout(req: SessionRequest, deps: SessionDeps): Promise<Reply> {
  const refused = crossSite(req);
  if (refused) return refused;
  const id = sessionId(req);
  const live = await deps.sessions.find(id);
  if (live && id) {
    const field = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>).csrf_token : undefined;
    if (!deps.sessions.checkCsrf(id, req.csrfHeader ?? field)) return errorReply(403, 'forbidden', 'The CSRF token is missing or wrong.');
    await deps.sessions.destroy(id);
  }
  return { status: 200, headers: { 'cache-control': 'no-store', 'set-cookie': clearedSessionCookie(req.https) }, body: { status: 'logged_out' } };
}
