// gatehouse/resource: protect an API with Gatehouse (or any OAuth 2.0 authorization server) without
// running the authorization server in the same process. See docs/protect-your-api.md.
export { createResourceServer, ResourceServer } from './core.js';
export { DEFAULT_ALGORITHMS, type ResourceServerOptions } from './options.js';
export type { AccessInfo } from './access-info.js';
export type { Requirement, Need } from './requirements.js';
export type { ResourceRequest, Outcome, Verifier, Authenticated } from './request.js';
export type { Reply } from '../schemes/http-auth/replies.js';
export { InvalidToken, IssuerUnavailable } from './errors.js';
export { createBasicVerifier, BasicVerifier, type BasicVerifierOptions } from './basic.js';
export { createDigestVerifier, DigestVerifier, type DigestVerifierOptions, type DigestAuth, type DigestLookupResult } from './digest.js';
export type { PasswordAuth } from './password-auth.js';
export type { Claim } from './nonce-counts.js';
export { fastifyResource, fastifyProtect, type FastifyResourceOptions, type FastifyProtectHook } from './adapters/fastify.js';
export { expressProtect, type Middleware } from './adapters/express.js';
export { fetchProtect, fetchAuthenticate } from './adapters/fetch.js';
