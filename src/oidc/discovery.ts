// OpenID Connect Discovery 1.0 §3: /.well-known/openid-configuration. The RFC 8414 metadata
// (oauth/metadata.ts) plus what OpenID Connect adds; the two never disagree because one is built
// from the other.
import { SIGNING_ALGORITHMS } from '../keys/signing-key.js';
import { authorizationServerMetadata } from '../oauth/metadata.js';
import type { OAuthDeps } from '../oauth/deps.js';
import { CLAIMS_SUPPORTED } from './claims.js';
import { ACR } from './id-token.js';
import { END_SESSION_PATH } from '../ui/pages.js';

export const USERINFO_PATH = '/oidc/userinfo';


export function openidConfiguration(deps: OAuthDeps): Record<string, unknown> {
  const iss = deps.issuer();
  return {
    ...authorizationServerMetadata(deps, { authorizationEndpoint: true }),
    userinfo_endpoint: `${iss}${USERINFO_PATH}`,
    end_session_endpoint: `${iss}${END_SESSION_PATH}`,
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...SIGNING_ALGORITHMS],
    claims_supported: CLAIMS_SUPPORTED,
    acr_values_supported: [ACR],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    frontchannel_logout_supported: false,
  };
}
