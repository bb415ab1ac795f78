// The pages of the authorization endpoint: the error page (when the client cannot be trusted with a
// redirect), the login form and the consent form. Forms post back to /oauth/authorize only.
import type { Reply } from '../schemes/http-auth/replies.js';
import { cspSourceOf, escapeHtml, hiddenFields, page } from './html.js';

export const AUTHORIZE_PATH = '/oauth/authorize';

export function errorPage(status: number, error: string, description: string): Reply {
  return page('Sign-in error', `<h1>This sign-in request cannot continue</h1>\n<p class="error"><strong>${escapeHtml(error)}</strong>: ${escapeHtml(description)}</p>\n<p>Go back to the application and try again.</p>`, { status });
}

/** The login and consent forms post to us, and our answer redirects to the client: CSP form-action
 * covers that redirect too, so it names the redirect URI's origin besides 'self'. */
function formAction(fields: Record<string, string>): string[] {
  try {
    return fields.redirect_uri ? [cspSourceOf(fields.redirect_uri)] : [];
  } catch {
    return [];
  }
}

export function loginPage(clientName: string, fields: Record<string, string>, csrf: string, message?: string, status = 200, headers: Record<string, string | string[]> = {}): Reply {
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(clientName)}</strong></p>
${message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
<form method="post" action="${AUTHORIZE_PATH}">
${hiddenFields({ ...fields, gatehouse_action: 'login', csrf_token: csrf })}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus${fields.login_hint ? ` value="${escapeHtml(fields.login_hint)}"` : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
    { status, headers, formAction: formAction(fields) },
  );
}

export function consentPage(clientName: string, username: string, scopes: Array<{ name: string; description: string }>, fields: Record<string, string>, csrf: string, headers: Record<string, string | string[]> = {}): Reply {
  const items = scopes.map((s) => `<li>${escapeHtml(s.description)} <small>(${escapeHtml(s.name)})</small></li>`).join('\n');
  return page(
    'Allow access?',
    `<h1>Allow access?</h1>
<p><strong>${escapeHtml(clientName)}</strong> asks to act for you (${escapeHtml(username)}):</p>
<ul>
${items || '<li>Know that you signed in</li>'}
</ul>
<form method="post" action="${AUTHORIZE_PATH}">
${hiddenFields({ ...fields, gatehouse_action: 'consent', csrf_token: csrf })}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
    { headers, formAction: formAction(fields) },
  );
}

export const END_SESSION_PATH = '/oidc/logout';

/** RP-Initiated Logout: the confirmation (no logout is forced on a user by a link). */
export function logoutPage(username: string, fields: Record<string, string>, csrf: string): Reply {
  const redirect = fields.post_logout_redirect_uri;
  return page(
    'Sign out?',
    `<h1>Sign out?</h1>
<p>You are signed in as <strong>${escapeHtml(username)}</strong>. An application asks to sign you out.</p>
<form method="post" action="${END_SESSION_PATH}">
${hiddenFields({ ...fields, csrf_token: csrf })}
<button type="submit" name="gatehouse_action" value="logout">Sign out</button>
<button type="submit" name="gatehouse_action" value="stay">Stay signed in</button>
</form>`,
    { formAction: redirect ? formAction({ redirect_uri: redirect }) : [] },
  );
}

export function messagePage(title: string, text: string, headers: Record<string, string | string[]> = {}): Reply {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>`, { headers });
}

export function signedOutPage(headers: Record<string, string | string[]> = {}): Reply {
  return messagePage('Signed out', 'You are signed out. You can close this window.', headers);
}
