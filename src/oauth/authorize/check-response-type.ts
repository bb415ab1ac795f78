// RFC 6749 §3.1.1, §4.1.1, §4.2.1: response_type `code` or `token` (implicit: legacy, only for clients
// registered with it); the response mode (query, fragment, form_post; never query for tokens,
// OAuth 2.0 Multiple Response Types §3.0).
import type { ClientRow } from '../../store/clients.js';
import { toClient } from '../clients.js';
import type { AuthorizeParams } from './request.js';
import type { ResponseMode } from './respond.js';

export type ResponseTypeCheck = { responseType: 'code' | 'token'; mode: ResponseMode } | { error: string; description: string; mode: ResponseMode };

export function checkResponseType(params: AuthorizeParams, client: ClientRow): ResponseTypeCheck {
  const type = params.response_type;
  const fallback: ResponseMode = type === 'token' ? 'fragment' : 'query';
  const requested = params.response_mode;
  const mode: ResponseMode = requested === 'fragment' || requested === 'form_post' || requested === 'query' ? requested : fallback;
  if (!type) return { error: 'invalid_request', description: 'response_type is missing.', mode };
  if (type !== 'code' && type !== 'token') return { error: 'unsupported_response_type', description: 'response_type must be code (or token, where enabled).', mode };
  if (!toClient(client).responseTypes.includes(type)) return { error: 'unauthorized_client', description: `This application may not use response_type=${type}.`, mode };
  if (requested !== undefined && requested !== mode) return { error: 'invalid_request', description: 'response_mode must be query, fragment or form_post.', mode: fallback };
  if (type === 'token' && mode === 'query') return { error: 'invalid_request', description: 'Tokens are never sent in the query.', mode: 'fragment' };
  return { responseType: type, mode };
}
