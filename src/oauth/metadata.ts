// RFC 8414 authorization server metadata: exactly what this server supports, nothing more.
import { SIGNING_ALGORITHMS } from '../keys/signing-key.js';
import { CLIENT_AUTH_METHODS } from './client-auth.js';
import type { OAuthDeps } from './deps.js';
import { TOKEN_GRANTS } from './token-endpoint.js';

export interface MetadataOptions {
  /** Present once the authorization endpoint serves requests. */
  authorizationEndpoint: boolean;
}

export function authorizationServerMetadata(deps: OAuthDeps, options: MetadataOptions): Record<string, unknown> {
  const iss = deps.issuer();
  const authMethods = CLIENT_AUTH_METHODS;
  return {
    issuer: iss,
    ...(options.authorizationEndpoint
      ? {
          authorization_endpoint: `${iss}/oauth/authorize`,
          response_types_supported: ['code', 'token', 'id_token', 'id_token token', 'code id_token', 'code token', 'code id_token token'],
          response_modes_supported: ['query', 'fragment', 'form_post'],
          code_challenge_methods_supported: ['S256'],
          authorization_response_iss_parameter_supported: true,
        }
      : { response_types_supported: [] }),
    token_endpoint: `${iss}/oauth/token`,
    jwks_uri: `${iss}/.well-known/jwks.json`,
    scopes_supported: deps.scopes.names(),
    grant_types_supported: options.authorizationEndpoint ? [...TOKEN_GRANTS, 'implicit'] : TOKEN_GRANTS.filter((g) => g !== 'authorization_code'),
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint: `${iss}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint: `${iss}/oauth/introspect`,
    introspection_endpoint_auth_methods_supported: authMethods.filter((m) => m !== 'none'),
    access_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
  };
}
