// RFC 6749 §3.1.1, OAuth 2.0 Multiple Response Type Encoding Practices, OIDC Core §3: the response
// type (code; with the implicit grant, token, id_token, id_token token; with both, the hybrid code
// id_token, code token, code id_token token) and the response mode. Only `code` answers in the query
// by default; the others in the fragment, and never in the query (tokens in URLs leak). An ID token
// needs scope openid and a nonce (OIDC Core §3.2.2.1, §3.3.2.11).
import type { ClientRow } from '../../store/clients.js';
import { toClient } from '../clients.js';
import type { AuthorizeParams } from './request.js';
import type { ResponseMode } from './respond.js';

export interface ResponseType {
  code: boolean;
  token: boolean;
  idToken: boolean;
  /** The canonical name (values in the order of OIDC Core §3). */
  name: string;
}

const KNOWN = ['code', 'token', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'];

export type ResponseTypeCheck = { responseType: ResponseType; mode: ResponseMode } | { error: string; description: string; mode: ResponseMode };

/** The values of response_type in any order (OAuth 2.0 Multiple Response Types §5). */
function canonical(type: string): string | undefined {
  const values = type.split(' ');
  if (new Set(values).size !== values.length) return undefined;
  const order = ['code', 'id_token', 'token'];
  if (values.some((v) => !order.includes(v))) return undefined;
  const name = order.filter((v) => values.includes(v)).join(' ');
  return KNOWN.includes(name) ? name : undefined;
}

export function checkResponseType(params: AuthorizeParams, client: ClientRow): ResponseTypeCheck {
  const type = params.response_type;
  const name = type === undefined ? undefined : canonical(type);
  const fallback: ResponseMode = name === undefined || name === 'code' ? 'query' : 'fragment';
  const requested = params.response_mode;
  const mode: ResponseMode = requested === 'fragment' || requested === 'form_post' || requested === 'query' ? requested : fallback;
  if (!type) return { error: 'invalid_request', description: 'response_type is missing.', mode };
  if (!name) return { error: 'unsupported_response_type', description: `response_type must be one of: ${KNOWN.join(', ')}.`, mode };
  if (!toClient(client).responseTypes.includes(name)) return { error: 'unauthorized_client', description: `This application may not use response_type=${type}.`, mode };
  if (requested !== undefined && requested !== mode) return { error: 'invalid_request', description: 'response_mode must be query, fragment or form_post.', mode: fallback };
  const values = name.split(' ');
  const responseType: ResponseType = { code: values.includes('code'), token: values.includes('token'), idToken: values.includes('id_token'), name };
  if (name !== 'code' && mode === 'query') return { error: 'invalid_request', description: 'Tokens are never sent in the query.', mode: 'fragment' };
  if (responseType.idToken) {
    const scope = (params.scope ?? '').split(' ');
    if (!scope.includes('openid')) return { error: 'invalid_scope', description: 'An ID token needs scope openid.', mode };
    if (!params.nonce) return { error: 'invalid_request', description: 'A nonce is required when the ID token comes from the authorization endpoint.', mode };
  } else if (responseType.code && responseType.token && (params.scope ?? '').split(' ').includes('openid') && !params.nonce) {
    return { error: 'invalid_request', description: 'The hybrid flow needs a nonce.', mode };
  }
  return { responseType, mode };
}
