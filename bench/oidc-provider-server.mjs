#!/usr/bin/env node
// node-oidc-provider, configured like Gatehouse's benchmark clients, for the side-by-side OAuth
// benchmark (bench/oauth-compare.mjs). An unbounded in-memory adapter, ES256 JWT access tokens for
// the `api` resource, opaque tokens for the introspection client.
//   node bench/oidc-provider-server.mjs   (env: SECRET; prints "listening on <url>")
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';
import { MemoryAdapter } from './lib/memory-adapter.mjs';
import http from 'node:http';

const secret = process.env.SECRET;
const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench' };
const server = http.createServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${server.address().port}`;
const RESOURCE = `${issuer}/api`;
// The development adapter is an LRU of 1000 entries: codes minted ahead of the load would be evicted.
// This one is the same thing without the bound: plain in-memory maps.

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  jwks: { keys: [jwk] },
  clients: [
    { client_id: 'svc', client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
    { client_id: 'web', client_secret: secret, grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
    { client_id: 'web-refresh', client_secret: secret, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
    { client_id: 'svc-opaque', client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
  ],
  scopes: ['api'],
  // Like Gatehouse: every refresh rotates the refresh token (RFC 9700 §4.14.2).
  rotateRefreshToken: true,
  // Like Gatehouse: a client registered for refresh_token gets refresh tokens (this also registers
  // the grant type, which node-oidc-provider otherwise ties to the offline_access scope).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
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
// A side door for the benchmark only: codes and refresh tokens minted directly through the
// provider's models (what its interactive login, consent and code exchange would store), so that
// code exchanges and refreshes can be measured in bulk.
const callback = provider.callback();
const mint = {
  async codes(n, u) {
    const client = await provider.Client.find('web');
    const challenge = u.searchParams.get('challenge');
    const out = [];
    for (let i = 0; i < n; i++) {
      const grantId = await newGrant('web');
      const code = new provider.AuthorizationCode({ accountId: 'alice', client, grantId, redirectUri: 'http://127.0.0.1:1/cb', scope: 'api', resource: RESOURCE, codeChallenge: challenge, codeChallengeMethod: 'S256', authTime: Math.floor(Date.now() / 1000) });
      out.push(await code.save());
    }
    return out;
  },
  async 'refresh-tokens'(n) {
    const client = await provider.Client.find('web-refresh');
    const out = [];
    for (let i = 0; i < n; i++) {
      const grantId = await newGrant('web-refresh');
      const now = Math.floor(Date.now() / 1000);
      const token = new provider.RefreshToken({ accountId: 'alice', client, grantId, scope: 'api', resource: RESOURCE, gty: 'authorization_code', iiat: now, authTime: now, rotations: 0 });
      out.push(await token.save());
    }
    return out;
  },
};
async function newGrant(clientId) {
  const grant = new provider.Grant({ accountId: 'alice', clientId });
  grant.addResourceScope(RESOURCE, 'api');
  return grant.save();
}
server.on('request', async (req, res) => {
  const u = new URL(req.url, issuer);
  const kind = u.pathname.startsWith('/__bench/') ? u.pathname.slice('/__bench/'.length) : undefined;
  if (!kind || !Object.hasOwn(mint, kind)) return callback(req, res);
  const out = await mint[kind](Number(u.searchParams.get('n')), u);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(out));
});
process.stdout.write(`listening on ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
