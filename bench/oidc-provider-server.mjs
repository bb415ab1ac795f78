#!/usr/bin/env node
// node-oidc-provider, configured like Gatehouse's benchmark clients, for the side-by-side OAuth
// benchmark (bench/oauth-compare.mjs). In-memory adapter (its default), ES256 JWT access tokens for
// the `api` resource, opaque tokens for the introspection client.
//   node bench/oidc-provider-server.mjs   (env: SECRET; prints "listening on <url>")
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';
import http from 'node:http';

const secret = process.env.SECRET;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench' };
const server = http.createServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${server.address().port}`;
const RESOURCE = `${issuer}/api`;
const provider = new Provider(issuer, {
  jwks: { keys: [jwk] },
  clients: [
    { client_id: 'svc', client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
    { client_id: 'svc-opaque', client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
  ],
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx) => (ctx.oidc.client?.clientId === 'svc' ? RESOURCE : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({ scope: 'api', audience: RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }),
    },
  },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.message}\n`));
server.on('request', provider.callback());
process.stdout.write(`listening on ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
