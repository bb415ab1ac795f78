// RFC 6749 §3.1.2, §4.1.2.1, RFC 9700 §2.1: redirect_uri is required and must equal a registered one
// (RFC 8252 §7.3: loopback IPs on any port). Otherwise an error page: never a redirect to a URI we
// cannot vouch for (catalogue AZ-01..AZ-09).
import type { Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import { errorPage } from '../../ui/pages.js';
import { redirectUriMatches, toClient } from '../clients.js';
import type { AuthorizeParams } from './request.js';

export function checkRedirectUri(params: AuthorizeParams, client: ClientRow): { redirectUri: string } | { reply: Reply } {
  const uri = params.redirect_uri;
  if (!uri) return { reply: errorPage(400, 'invalid_request', 'The request has no redirect_uri.') };
  if (uri.length > 2000 || !redirectUriMatches(toClient(client).redirectUris, uri)) return { reply: errorPage(400, 'invalid_request', 'The redirect_uri is not registered for this application.') };
  return { redirectUri: uri };
}
