// RFC 6749 §4.1.2.1: an unknown client_id gets an error page, never a redirect.
import type { Reply } from '../../schemes/http-auth/replies.js';
import type { ClientRow } from '../../store/clients.js';
import { errorPage } from '../../ui/pages.js';
import type { Clients } from '../clients.js';
import type { AuthorizeParams } from './request.js';

export async function checkClient(params: AuthorizeParams, clients: Clients): Promise<{ client: ClientRow } | { reply: Reply }> {
  if (!params.client_id) return { reply: errorPage(400, 'invalid_request', 'The request names no client (client_id).') };
  const client = await clients.find(params.client_id);
  if (!client) return { reply: errorPage(400, 'invalid_client', 'This application is not registered here.') };
  return { client };
}
