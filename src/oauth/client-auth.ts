// Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3):
// client_secret_basic (the id and secret form-urlencoded before Basic encoding, §2.3.1),
// client_secret_post, or none for a public client that names itself with client_id. Two methods in
// one request are refused (§2.3). A failure is 401 invalid_client with a Basic challenge (§5.2).
import { parseBasic } from '../schemes/basic/parse.js';
import { MalformedCredentials, splitCredentials } from '../schemes/http-auth/credentials.js';
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';
import type { ClientRow } from '../store/clients.js';
import { Clients } from './clients.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
export const CLIENT_AUTH_METHODS: ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

export interface ClientAuthInput {
  authorization: string[];
  body: Record<string, string>;
  realm: string;
}

export type ClientAuthOutcome = { client: ClientRow; method: ClientAuthMethod } | { reply: Reply };

export function invalidClient(realm: string, description = 'Client authentication failed.'): Reply {
  return errorReply(401, 'invalid_client', description, { 'www-authenticate': `Basic realm="${realm}", charset="UTF-8"` });
}

function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

export async function authenticateClient(input: ClientAuthInput, clients: Clients): Promise<ClientAuthOutcome> {
  const { body, realm } = input;
  if (input.authorization.length > 1) return { reply: errorReply(400, 'invalid_request', 'Send one Authorization header.') };
  const header = input.authorization[0];
  let id: string | undefined;
  let secret: string | undefined;
  let method: ClientAuthMethod;
  if (header !== undefined) {
    if (body.client_secret !== undefined) return { reply: errorReply(400, 'invalid_request', 'Use one client authentication method, not two.') };
    let creds;
    try {
      const { scheme, rest } = splitCredentials(header);
      if (scheme.toLowerCase() !== 'basic') return { reply: invalidClient(realm, 'Use HTTP Basic (client_secret_basic) or client_secret_post.') };
      creds = parseBasic(rest);
      id = formDecode(creds.userId);
      secret = formDecode(creds.password);
    } catch (err) {
      if (err instanceof MalformedCredentials || err instanceof URIError) return { reply: invalidClient(realm, 'The client credentials are malformed.') };
      throw err;
    }
    if (body.client_id !== undefined && body.client_id !== id) return { reply: errorReply(400, 'invalid_request', 'client_id differs from the authenticated client.') };
    method = 'client_secret_basic';
  } else if (body.client_secret !== undefined) {
    id = body.client_id;
    secret = body.client_secret;
    method = 'client_secret_post';
  } else {
    id = body.client_id;
    method = 'none';
  }
  if (!id) return { reply: invalidClient(realm, 'The client is not identified (client_id or HTTP Basic).') };
  const client = await clients.find(id);
  if (!client) return { reply: invalidClient(realm) };
  if (method === 'none') {
    if (client.type !== 'public') return { reply: invalidClient(realm, 'This client must authenticate.') };
  } else if (client.type === 'public' || secret === undefined || !Clients.secretMatches(client, secret)) {
    return { reply: invalidClient(realm) };
  }
  return { client, method };
}
