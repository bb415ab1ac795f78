#!/usr/bin/env node
// A small notes API on its own port, protected by the Gatehouse resource-server toolkit against a
// Gatehouse running elsewhere. It imports the toolkit the way an application does
// (`gatehouse/resource`) and takes its settings from the environment:
//
//   RS_ISSUER                       the authorization server's issuer URL (required)
//   RS_AUDIENCE                     this API's audience, as the issuer grants it (required)
//   RS_PORT, RS_HOST                where to listen (default 4000 on 127.0.0.1; 0: a free port)
//   RS_INTROSPECTION_CLIENT_ID      the confidential client this API introspects opaque tokens as
//   RS_INTROSPECTION_CLIENT_SECRET  (without both, opaque tokens are refused)
//   RS_ALLOW_QUERY_TOKEN            true to accept ?access_token= (default false: 400)
//   RS_LEEWAY_SECONDS, RS_JWKS_COOLDOWN_SECONDS, RS_INTROSPECTION_CACHE_SECONDS   see the toolkit
//
// Routes: GET /notes (scope notes:read), POST /notes (scope notes:write), GET /public/notes (the same
// list without authentication), GET /health.
import Fastify from 'fastify';
import { createResourceServer, fastifyResource } from 'gatehouse/resource';

function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new Error(`${name} is required`);
    return fallback;
  }
  return v;
}
const number = (name, fallback) => {
  const v = Number(env(name, String(fallback)));
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: expected a number, got "${process.env[name]}"`);
  return v;
};

let lastWarning = 0;
const rs = createResourceServer({
  issuer: env('RS_ISSUER'),
  audience: env('RS_AUDIENCE'),
  realm: 'notes',
  ...(process.env.RS_INTROSPECTION_CLIENT_ID
    ? { introspection: { clientId: env('RS_INTROSPECTION_CLIENT_ID'), clientSecret: env('RS_INTROSPECTION_CLIENT_SECRET') } }
    : {}),
  allowQueryToken: env('RS_ALLOW_QUERY_TOKEN', 'false') === 'true',
  leewaySeconds: number('RS_LEEWAY_SECONDS', 30),
  jwksCooldownSeconds: number('RS_JWKS_COOLDOWN_SECONDS', 10),
  introspectionCacheSeconds: number('RS_INTROSPECTION_CACHE_SECONDS', 30),
  onIssuerError: (err) => {
    // One line per 10 s at most during an outage; never a token.
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    console.error(`warning: the authorization server cannot be reached (${err.message}); requests get 503`);
  },
});

const notes = new Map(); // sub → [{ id, text }]
const welcome = [{ id: 0, text: 'Welcome to the notes API.' }];
const listNotes = async (req) => ({ owner: req.auth?.sub ?? null, notes: req.auth ? (notes.get(req.auth.sub) ?? welcome) : welcome });

const app = Fastify({ logger: false });
await app.register(fastifyResource, { verifier: rs });
app.get('/health', async () => ({ ok: true }));
app.get('/public/notes', listNotes);
app.get('/notes', { onRequest: app.protect({ scope: 'notes:read' }) }, listNotes);
app.post('/notes', { onRequest: app.protect({ scope: 'notes:write' }) }, async (req, reply) => {
  const text = typeof req.body?.text === 'string' ? req.body.text.slice(0, 1000) : '';
  if (!text) return reply.code(400).send({ error: 'invalid_request', error_description: 'Send {"text": "…"}.' });
  const mine = notes.get(req.auth.sub) ?? [];
  const note = { id: mine.length + 1, text };
  notes.set(req.auth.sub, [...mine, note]);
  return reply.code(201).send({ owner: req.auth.sub, note });
});

const address = await app.listen({ port: number('RS_PORT', 4000), host: env('RS_HOST', '127.0.0.1') });
console.log(`resource server listening on ${address}`);
// Fetch the issuer's keys now, so the first request does not wait; if the issuer is down, requests
// get 503 until it is back.
rs.warm().catch((err) => console.error(`warning: ${err.message}; will retry on the next request`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
