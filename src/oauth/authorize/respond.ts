// Sending the authorization response (or error) back to the client: RFC 6749 §4.1.2 / §4.2.2 with
// the response mode of OAuth 2.0 Multiple Response Types (query, fragment) or Form Post. RFC 9207:
// `iss` on every response. 303, never 307 (RFC 9700 §4.12).
import type { Reply } from '../../schemes/http-auth/replies.js';
import { cspSourceOf, escapeHtml, hiddenFields, page } from '../../ui/html.js';

export type ResponseMode = 'query' | 'fragment' | 'form_post';

export interface Destination {
  redirectUri: string;
  mode: ResponseMode;
  state: string | undefined;
  iss: string;
}

export function respond(to: Destination, values: Record<string, string>, headers: Record<string, string | string[]> = {}): Reply {
  const params: Record<string, string> = { ...values, ...(to.state !== undefined ? { state: to.state } : {}), iss: to.iss };
  if (to.mode === 'form_post') {
    const origin = cspSourceOf(to.redirectUri);
    return page(
      'Continue',
      `<form method="post" action="${escapeHtml(to.redirectUri)}">\n${hiddenFields(params)}\n<noscript><button type="submit">Continue</button></noscript></form>`,
      { formAction: [origin], script: 'document.forms[0].submit()', headers },
    );
  }
  let location: string;
  if (to.mode === 'fragment') {
    location = `${to.redirectUri.split('#')[0]}#${new URLSearchParams(params).toString()}`;
  } else location = withQuery(to.redirectUri, params);
  return { status: 303, headers: { location, 'cache-control': 'no-store', ...headers }, body: '' };
}

/** RFC 6749 §3.1.2: the registered query component is kept exactly; ours is appended. */
export function withQuery(uri: string, params: Record<string, string>): string {
  const [base, existing] = uri.split('#')[0]!.split(/\?(.*)/s, 2) as [string, string | undefined];
  const added = new URLSearchParams(params).toString();
  if (!added) return uri;
  return existing ? `${base}?${existing}&${added}` : `${base}?${added}`;
}

export function respondError(to: Destination, error: string, description: string, headers: Record<string, string | string[]> = {}): Reply {
  return respond(to, { error, error_description: description }, headers);
}
