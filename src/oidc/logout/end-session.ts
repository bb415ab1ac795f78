// OpenID Connect RP-Initiated Logout 1.0: the end_session_endpoint (GET or POST). Parameters:
// id_token_hint (an ID token of ours, expired ones accepted, §2), client_id, post_logout_redirect_uri
// (must be one the client registered, compared exactly, §3), state (returned on the redirect).
// A logout is never forced: a signed-in user confirms it on our page (POSTed back with a token bound
// to the session, from our own origin). A hint or a redirect URI that does not check out gets an
// error page and no redirect (catalogue ID-06). Ending the session tells the clients it signed in to
// (back-channel logout).
import { hashToken } from '../../crypto/tokens.js';
import type { Reply } from '../../schemes/http-auth/replies.js';
import { clearedSessionCookie } from '../../sessions/cookie.js';
import { crossSite, sessionId, type SessionDeps, type SessionRequest } from '../../sessions/request.js';
import { toClient } from '../../oauth/clients.js';
import type { OAuthDeps } from '../../oauth/deps.js';
import { withQuery } from '../../oauth/authorize/respond.js';
import { END_SESSION_PATH, errorPage, logoutPage, messagePage, signedOutPage } from '../../ui/pages.js';

export interface EndSessionRequest extends SessionRequest {
  method: 'GET' | 'POST';
  query: string;
  form: Record<string, string> | undefined;
}

const PARAMS = ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state', 'logout_hint', 'ui_locales'] as const;

function readParams(req: EndSessionRequest): { params: Record<string, string>; repeated: boolean } {
  const params: Record<string, string> = {};
  let repeated = false;
  const source = req.method === 'POST' && req.form ? Object.entries(req.form) : [...new URLSearchParams(req.query)];
  for (const [name, value] of source) {
    if (!(PARAMS as readonly string[]).includes(name)) continue;
    if (params[name] !== undefined) repeated = true;
    params[name] = value;
  }
  return { params, repeated };
}

export async function endSessionEndpoint(req: EndSessionRequest, deps: OAuthDeps, session: SessionDeps): Promise<Reply> {
  const { params, repeated } = readParams(req);
  if (repeated) return errorPage(400, 'invalid_request', 'A parameter was sent more than once.');
  let clientId = params.client_id;
  if (params.id_token_hint !== undefined) {
    let aud: string;
    try {
      aud = (await deps.idTokens.verifyHint(params.id_token_hint)).aud;
    } catch {
      return errorPage(400, 'invalid_request', 'id_token_hint is not an ID token this server issued.');
    }
    if (clientId !== undefined && clientId !== aud) return errorPage(400, 'invalid_request', 'id_token_hint was issued to another application than client_id.');
    clientId = aud;
  }
  let redirect: string | undefined;
  if (params.post_logout_redirect_uri !== undefined) {
    const row = clientId === undefined ? undefined : await deps.clients.find(clientId);
    if (!row) return errorPage(400, 'invalid_request', 'post_logout_redirect_uri needs id_token_hint or client_id naming a known application.');
    if (!toClient(row).postLogoutRedirectUris.includes(params.post_logout_redirect_uri)) return errorPage(400, 'invalid_request', 'post_logout_redirect_uri is not registered for this application.');
    redirect = withQuery(params.post_logout_redirect_uri, params.state !== undefined ? { state: params.state } : {});
  }
  const action = req.method === 'POST' ? req.form?.gatehouse_action : undefined;
  if (action !== undefined && crossSite(req)) return errorPage(403, 'forbidden', 'Cross-site requests are refused.');
  // A client's page may POST the logout request (§2); posted from another site it arrives without
  // the SameSite=Lax session cookie. Continue as a top-level GET, which carries it, to the
  // confirmation: nothing is ended or cleared on a request that cannot see the session.
  if (req.method === 'POST' && action === undefined) return { status: 303, headers: { location: withQuery(END_SESSION_PATH, params), 'cache-control': 'no-store' }, body: '' };
  const id = sessionId(req);
  const live = await session.sessions.find(id);
  const done = (): Reply => {
    const headers = { 'set-cookie': clearedSessionCookie(req.https), 'cache-control': 'no-store' };
    return redirect ? { status: 303, headers: { ...headers, location: redirect }, body: '' } : signedOutPage(headers);
  };
  if (!live || !id) return done();
  const binding = hashToken(id);
  if (action === undefined) return logoutPage(live.user.username, params, session.sessions.bindToken('logout', binding));
  if (!session.sessions.checkBound('logout', binding, req.form?.csrf_token)) return errorPage(403, 'forbidden', 'The sign-out form expired or did not come from this site.');
  if (action !== 'logout') return messagePage('Still signed in', 'You stayed signed in. You can close this window.');
  await session.sessions.destroy(id);
  return done();
}
