#!/usr/bin/env node
// node-oidc-provider with its interactions implemented as an application would, for the
// side-by-side login benchmark (bench/login-compare.mjs): a login page whose POST checks the
// password with argon2id against a hash made at startup (the same parameters as Gatehouse's), and a
// consent page whose POST grants what the prompt asks for (provider.Grant) and finishes the
// interaction. The same client as Gatehouse's benchmark client `web` (client_secret_basic, code
// flow, PKCE S256), scopes openid profile email, the same accounts (alice, or one per virtual browser).
// An unbounded in-memory adapter.
//   node bench/oidc-provider-login-server.mjs
//   env: SECRET (client secret), USER_PASSWORD (the accounts' password), USERS (JSON: [{ username,
//   email, name }], default alice), ARGON2_MEMORY, ARGON2_TIME, ARGON2_PARALLELISM (argon2id costs;
//   default Gatehouse's: 19456, 2, 1). Prints "listening on <url>".
import argon2 from 'argon2';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';
import { MemoryAdapter } from './lib/memory-adapter.mjs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';

const secret = process.env.SECRET;
const password = process.env.USER_PASSWORD;
if (!secret || !password) throw new Error('SECRET and USER_PASSWORD are required');
const num = (name, d) => Number(process.env[name] || d);
const ARGON2 = { type: argon2.argon2id, memoryCost: num('ARGON2_MEMORY', 19456), timeCost: num('ARGON2_TIME', 2), parallelism: num('ARGON2_PARALLELISM', 1), hashLength: 32 };
const CALLBACK = 'http://127.0.0.1:1/cb';

// The account store: password hashes made here, as a registration would have.
const USERS = JSON.parse(process.env.USERS || '[{"username":"alice","email":"alice@example.com","name":"Alice"}]');
const ACCOUNTS = new Map();
for (const u of USERS) {
  ACCOUNTS.set(u.username, { sub: u.username, passwordHash: await argon2.hash(password, ARGON2), claims: { name: u.name, preferred_username: u.username, email: u.email, email_verified: true } });
}

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const jwk = { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: 'bench' };
const server = http.createServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${server.address().port}`;

// As in bench/oidc-provider-server.mjs: the development adapter is an LRU of 1000 entries (sessions,
// interactions, grants and codes of a run would be evicted under load); this is the same thing
// without the bound.

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  jwks: { keys: [jwk] },
  clients: [
    { client_id: 'web', client_secret: secret, grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256' },
  ],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'] },
  async findAccount(_ctx, id) {
    const account = ACCOUNTS.get(id);
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  // Signed cookies (_session, _interaction, _interaction_resume), as a deployment would configure.
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  pkce: { required: () => true },
  ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 14 * 24 * 3600, Grant: 14 * 24 * 3600 },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
});
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider server_error: ${err.message}\n`));

// ---- The interaction application (what an Express app around the provider would do, without Express).
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const page = (res, status, title, body) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:1; frame-ancestors 'none'; base-uri 'none'" });
  res.end(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>\n<body>\n${body}\n</body></html>`);
};
const loginForm = (uid, clientId, message) => `<h1>Sign in</h1>
<p>to continue to <strong>${esc(clientId)}</strong></p>
${message ? `<p class="error" role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`;
const consentForm = (uid, clientId, accountId, details) => {
  const scopes = details.missingOIDCScope ?? [];
  return `<h1>Allow access?</h1>
<p><strong>${esc(clientId)}</strong> asks to act for you (${esc(accountId)}):</p>
<ul>
${scopes.map((s) => `<li>${esc(s)}</li>`).join('\n') || '<li>Know that you signed in</li>'}
</ul>
<form method="post" action="/interaction/${esc(uid)}/confirm">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>`;
};

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('body too large');
  }
  return Object.fromEntries(new URLSearchParams(body));
}

async function interaction(req, res, u) {
  const [, , uid, step] = u.pathname.split('/');
  // interactionDetails loads the interaction named by the _interaction cookie and checks it is the one in the path.
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return page(res, 400, 'Error', '<p>This sign-in request does not match.</p>');
  const { prompt, params, session } = details;
  if (req.method === 'GET' && step === undefined) {
    if (prompt.name === 'login') return page(res, 200, 'Sign in', loginForm(uid, params.client_id));
    if (prompt.name === 'consent') return page(res, 200, 'Allow access?', consentForm(uid, params.client_id, session.accountId, prompt.details));
    return page(res, 501, 'Error', '<p>Unsupported prompt.</p>');
  }
  if (req.method !== 'POST') return page(res, 405, 'Error', '<p>Method not allowed.</p>');
  const form = await readForm(req);
  if (step === 'login' && prompt.name === 'login') {
    const account = typeof form.username === 'string' ? ACCOUNTS.get(form.username) : undefined;
    const ok = account !== undefined && typeof form.password === 'string' && (await argon2.verify(account.passwordHash, form.password));
    if (!ok) return page(res, 400, 'Sign in', loginForm(uid, params.client_id, 'The username or password is incorrect.'));
    return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }
  if (step === 'confirm' && prompt.name === 'consent') {
    if (form.decision !== 'allow') return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied the request.' }, { mergeWithLastSubmission: false });
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) for (const [indicator, scope] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(indicator, scope.join(' '));
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
  return page(res, 400, 'Error', '<p>This step does not match the sign-in request.</p>');
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const u = new URL(req.url, issuer);
  if (!u.pathname.startsWith('/interaction/')) return callback(req, res);
  interaction(req, res, u).catch((err) => {
    if (!res.headersSent) page(res, err.statusCode ?? 500, 'Error', `<p>${esc(err.message)}</p>`);
    else res.destroy();
  });
});
process.stdout.write(`listening on ${issuer}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
