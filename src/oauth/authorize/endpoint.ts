// The authorization endpoint (RFC 6749 §3.1, §4.1.1, §4.2.1), as a pipeline of checks:
//   client → redirect_uri (both: error page, no redirect) → repeated parameters → response_type
//   and mode → PKCE → scope → prompt, max_age, id_token_hint → login (cookie session) → consent →
//   code, token and/or ID token.
// The pages post back here with the request's parameters as hidden fields, and every step runs all
// checks again: no interaction state is kept on the server, so any instance can take any step.
// CSRF: the login form's token is bound to a pre-login cookie, the consent form's to the session
// and this very request; both also need a same-origin request (sessions/same-origin.ts).
import type { Reply } from '../../schemes/http-auth/replies.js';
import { checkLoginForm } from '../../accounts/login-form.js';
import { randomToken, hashToken } from '../../crypto/tokens.js';
import { sessionCookie } from '../../sessions/cookie.js';
import { crossSite, sessionId, type SessionDeps, type SessionRequest } from '../../sessions/request.js';
import { parse, serialize } from 'cookie';
import { errorPage, consentPage, loginPage } from '../../ui/pages.js';
import { sidOf } from '../../oidc/sid.js';
import { toClient } from '../clients.js';
import { grantScope, type OAuthDeps } from '../deps.js';
import { checkClient } from './check-client.js';
import { checkPkce } from './check-pkce.js';
import { checkRedirectUri } from './check-redirect-uri.js';
import { checkResponseType } from './check-response-type.js';
import { issueAuthorizationResponse } from './issue-response.js';
import { carried, fromForm, parseAuthorizeQuery, REFUSED_PARAMS, requestDigest } from './request.js';
import { respondError, type Destination } from './respond.js';

export interface AuthorizeRequest extends SessionRequest {
  method: 'GET' | 'POST';
  query: string;
  form: Record<string, string> | undefined;
}

const INTERACTION_COOKIE = 'gatehouse_interaction';

function interactionCookie(req: AuthorizeRequest): { value: string; setCookie?: string } {
  const name = req.https ? `__Host-${INTERACTION_COOKIE}` : INTERACTION_COOKIE;
  const have = req.cookieHeader && req.cookieHeader.length < 8192 ? parse(req.cookieHeader)[name] : undefined;
  if (have && /^[A-Za-z0-9_-]{43}$/.test(have)) return { value: have };
  const value = randomToken();
  return { value, setCookie: serialize(name, value, { httpOnly: true, secure: req.https, sameSite: 'lax', path: '/' }) };
}

export async function authorizeEndpoint(req: AuthorizeRequest, deps: OAuthDeps, session: SessionDeps): Promise<Reply> {
  const { params, repeated, refused } = req.method === 'POST' && req.form ? fromForm(req.form) : parseAuthorizeQuery(req.query);
  const action = req.method === 'POST' ? req.form?.gatehouse_action : undefined;
  if (repeated.includes('client_id') || repeated.includes('redirect_uri')) return errorPage(400, 'invalid_request', 'client_id or redirect_uri is sent more than once.');
  const c = await checkClient(params, deps.clients);
  if ('reply' in c) return c.reply;
  const { client } = c;
  const r = checkRedirectUri(params, client);
  if ('reply' in r) return r.reply;
  const rt = checkResponseType(params, client);
  const to: Destination = { redirectUri: r.redirectUri, mode: rt.mode, state: params.state, iss: deps.issuer() };
  if (repeated.length) return respondError(to, 'invalid_request', `Parameters sent more than once: ${[...new Set(repeated)].join(', ')}.`);
  if ('error' in rt) return respondError(to, rt.error, rt.description);
  if (refused.length) return respondError(to, REFUSED_PARAMS[refused[0]!]!, `The ${refused[0]} parameter is not supported here.`);
  if (rt.responseType.code) {
    const pkce = checkPkce(params, client, deps.pkceRequired);
    if ('description' in pkce) return respondError(to, 'invalid_request', pkce.description);
  }
  const scope = grantScope(params.scope, toClient(client).scope, deps.scopes);
  if ('reply' in scope) return respondError(to, 'invalid_scope', String((scope.reply.body as { error_description: string }).error_description));
  const prompt = new Set((params.prompt ?? '').split(' ').filter(Boolean));
  if (prompt.has('none') && prompt.size > 1) return respondError(to, 'invalid_request', 'prompt=none cannot be combined with other values.');
  // OIDC Core §3.1.2.1: max_age (seconds since the user last signed in) and id_token_hint (who the
  // client expects): a session that is too old, or someone else's, needs a fresh login.
  if (params.max_age !== undefined && !/^\d{1,9}$/.test(params.max_age)) return respondError(to, 'invalid_request', 'max_age must be a whole number of seconds.');
  const maxAgeMs = params.max_age === undefined ? undefined : Number(params.max_age) * 1000;
  let hintSub: string | undefined;
  if (params.id_token_hint !== undefined) {
    try {
      hintSub = (await deps.idTokens.verifyHint(params.id_token_hint, client.client_id)).sub;
    } catch {
      return respondError(to, 'invalid_request', 'id_token_hint is not an ID token this server issued to this application.');
    }
  }
  const fields = carried(params);
  // Our own forms come from our own pages: another site's post of one is refused before anything else.
  if (action !== undefined && crossSite(req)) return errorPage(403, 'forbidden', 'Cross-site requests are refused.');

  // Login: a live session, or the login form.
  let headers: Record<string, string | string[]> = {};
  let live = await session.sessions.find(sessionId(req));
  let sid = live ? sessionId(req) : undefined;
  const stale = live !== undefined && ((maxAgeMs !== undefined && deps.clock.now() - live.row.auth_time > maxAgeMs) || (hintSub !== undefined && hintSub !== live.user.id));
  if (action === 'login') {
    const ic = interactionCookie(req);
    if (ic.setCookie || !session.sessions.checkBound('login', ic.value, req.form?.csrf_token)) return errorPage(403, 'forbidden', 'The form expired or did not come from this site. Start again from the application.');
    const checked = await checkLoginForm(req, session.accounts);
    if ('reply' in checked) {
      if (checked.reply.status === 429 || checked.reply.status === 403) return checked.reply;
      return loginPage(client.name, fields, session.sessions.bindToken('login', ic.value), 'The username or password is incorrect.', 400);
    }
    const created = await session.sessions.create(checked.user.id, sessionId(req));
    headers = { 'set-cookie': sessionCookie(created.id, req.https, session.absoluteTtlSeconds) };
    sid = created.id;
    live = await session.sessions.find(created.id);
  } else if (!live || ((prompt.has('login') || prompt.has('select_account') || stale) && action !== 'consent')) {
    if (prompt.has('none')) return respondError(to, 'login_required', live ? 'A fresh sign-in is needed (max_age, or id_token_hint names another user).' : 'The user is not signed in.');
    // No cookie is cleared here: a cross-site request (an authorization request POSTed by the client's
    // page) arrives without the SameSite=Lax cookie, and clearing it would log the user out.
    const ic = interactionCookie(req);
    return loginPage(client.name, fields, session.sessions.bindToken('login', ic.value), undefined, 200, ic.setCookie ? { 'set-cookie': ic.setCookie } : {});
  }
  if (!live || !sid) return errorPage(400, 'login_required', 'The session ended. Start again from the application.');
  const user = live.user;
  // OIDC Core §3.1.2.1: the user id_token_hint names must be the one signed in (or signing in now).
  if (hintSub !== undefined && hintSub !== user.id) return respondError(to, 'login_required', 'The signed-in user is not the one id_token_hint names.', headers);

  // Consent: remembered per user, client and scope; asked again for new scopes (or prompt=consent).
  const binding = `${hashToken(sid)}:${requestDigest(params)}`;
  if (action === 'consent') {
    if (!session.sessions.checkBound('consent', binding, req.form?.csrf_token)) return errorPage(403, 'forbidden', 'The consent form expired or did not come from this site. Start again from the application.');
    if (req.form?.decision !== 'allow') return respondError(to, 'access_denied', 'The user denied the request.', headers);
    const had = (await deps.store.consents.find(user.id, client.client_id))?.scope.split(' ').filter(Boolean) ?? [];
    await deps.store.consents.grant(user.id, client.client_id, [...new Set([...had, ...scope.names])].join(' '), deps.clock.now());
  } else if (client.require_consent === 1) {
    const granted = (await deps.store.consents.find(user.id, client.client_id))?.scope.split(' ') ?? null;
    const covered = granted !== null && scope.names.every((n) => granted.includes(n));
    if (!covered || prompt.has('consent')) {
      if (prompt.has('none')) return respondError(to, 'consent_required', 'The user has not allowed this application yet.', headers);
      const described = scope.names.map((n) => ({ name: n, description: deps.scopes.get(n)?.description ?? n }));
      return consentPage(client.name, user.username, described, fields, session.sessions.bindToken('consent', binding), headers);
    }
  }
  return issueAuthorizationResponse(
    {
      client, userId: user.id, authTime: live.row.auth_time, responseType: rt.responseType, scope: scope.names, audience: scope.audience,
      redirectUri: r.redirectUri, challenge: params.code_challenge ?? null, nonce: params.nonce, sid: sidOf(hashToken(sid)),
    },
    to,
    deps,
    headers,
  );
}
