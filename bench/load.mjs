#!/usr/bin/env node
// The load side of `npm run bench`: one scenario against an already running Gatehouse, in its own
// process, so that the load generator and the server never share an event loop.
//
//   node bench/load.mjs <scenario> <base-url>
//
// Prints one JSON object on stdout. Settings come from the environment:
//   BENCH_DURATION     seconds measured (default 10)
//   BENCH_CONNECTIONS  concurrent keep-alive connections (default 16)
//   BENCH_WARMUP       seconds of warm-up before measuring, results discarded (default 2; 0 = none)
//   BENCH_USER / BENCH_PASSWORD   the benchmark account (created by bench/run.mjs)
//
// Every response is checked: a status other than the one the scenario expects, a connection error or
// a timeout is an error. Digest responses must be 200 *and* carry the right rspauth, so a broken
// handshake cannot look fast.
import autocannon from 'autocannon';
import { hash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export const SCENARIOS = {
  'public': 'GET /api/public, no credentials (the baseline)',
  'basic-warm': 'GET /api/basic/resources, Basic, correct password, credential cache warm',
  'basic-wrong-password': 'GET /api/basic/resources, Basic, existing user, wrong password (401 expected)',
  'basic-unknown-user': 'GET /api/basic/resources, Basic, unknown user (401 expected)',
  'digest-handshake': 'GET /api/digest/resources: 401 challenge, then one authorized GET (SHA-256)',
  'digest-reused-nonce': 'GET /api/digest/resources, one nonce per connection, nc = 1, 2, 3, …',
  'basic-no-cache': 'GET /api/basic/resources, Basic, correct password, credential cache off (argon2 every time)',
  'jwt-resource': 'GET /api/jwt/resources with a valid ES256 access token (signature checked every time)',
  'jwt-resource-no-cache': 'GET /api/jwt/resources, as jwt-resource, against a server with GATEHOUSE_TOKEN_CACHE_SIZE=0',
  'jwt-login': 'POST /auth/login, correct password, one user per connection (argon2id every time)',
  'jwt-refresh': 'POST /auth/refresh, each connection rotating its own refresh-token chain',
};

const BASIC_PATH = '/api/basic/resources';
const DIGEST_PATH = '/api/digest/resources';

function intEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`${name}: expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new Error(`${name}: must be between ${min} and ${max}, got ${n}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// A small, independent RFC 7616 client (SHA-256 only, qop=auth), in the spirit of
// test/support/digest-client.ts.

const sha256 = (s) => hash('sha256', s, 'hex');

function header(headers, name) {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function parseParams(text) {
  const params = {};
  const re = /([A-Za-z0-9*_-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
  let p;
  while ((p = re.exec(text))) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return params;
}

/** The first `Digest` challenge with algorithm=SHA-256 among the WWW-Authenticate lines. */
function firstSha256Challenge(headers) {
  const v = header(headers, 'www-authenticate');
  const lines = Array.isArray(v) ? v : v ? [v] : [];
  for (const line of lines) {
    const m = /^Digest\s+(.*)$/i.exec(line.trim());
    if (!m) continue;
    const ch = parseParams(m[1]);
    if (ch.algorithm === 'SHA-256' && ch.nonce && ch.realm) return ch;
  }
  return undefined;
}

class DigestClient {
  constructor(username, password, uri) {
    this.username = username;
    this.password = password;
    this.uri = uri;
    this.ha1ByRealm = new Map();
    this.ha2 = sha256(`GET:${uri}`);
    this.ha2r = sha256(`:${uri}`);
  }

  ha1(realm) {
    let v = this.ha1ByRealm.get(realm);
    if (!v) this.ha1ByRealm.set(realm, (v = sha256(`${this.username}:${realm}:${this.password}`)));
    return v;
  }

  /** The Authorization value for challenge `ch` and nonce count `nc`, and the rspauth to expect. */
  authorize(ch, nc) {
    const ncText = nc.toString(16).padStart(8, '0');
    const cnonce = randomBytes(9).toString('base64url');
    const ha1 = this.ha1(ch.realm);
    const tail = `${ch.nonce}:${ncText}:${cnonce}:auth`;
    const response = sha256(`${ha1}:${tail}:${this.ha2}`);
    const fields = [
      `username="${this.username}"`,
      `realm="${ch.realm}"`,
      `uri="${this.uri}"`,
      `algorithm=SHA-256`,
      `nonce="${ch.nonce}"`,
      `nc=${ncText}`,
      `cnonce="${cnonce}"`,
      `qop=auth`,
      `response="${response}"`,
    ];
    if (ch.opaque !== undefined) fields.push(`opaque="${ch.opaque}"`);
    return { header: `Digest ${fields.join(', ')}`, rspauth: sha256(`${ha1}:${tail}:${this.ha2r}`), ncText, cnonce };
  }

  /** Did the server prove it knows H(A1) too (RFC 7616 §3.5)? */
  static verify(headers, expected) {
    const info = header(headers, 'authentication-info');
    if (typeof info !== 'string') return 'no Authentication-Info';
    const p = parseParams(info);
    if (p.rspauth !== expected.rspauth) return 'wrong rspauth';
    if (p.nc !== expected.ncText || p.cnonce !== expected.cnonce || p.qop !== 'auth') return 'Authentication-Info does not echo nc/cnonce/qop';
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios. Each has a path, the status every response must have (for the simple ones), or a
// setupClient that gives each connection its own request sequence and state.

function counters() {
  return { ok: 0, bad: 0, reasons: {}, handshakes: 0, handshakeMs: [], nonces: 0, stale: 0 };
}

function fail(c, reason) {
  c.bad++;
  c.reasons[reason] = (c.reasons[reason] ?? 0) + 1;
}

function basicHeader(user, password) {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------
// The JWT login. BENCH_LOGIN_USERS users named <user>-0 … share the benchmark password (created by
// bench/run.mjs): the server merges concurrent checks of identical credentials, so one user on every
// connection would measure that merge, not argon2.

async function postJson(base, path, body) {
  const r = await fetch(new URL(path, base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = await r.json();
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

const loginUsers = () => intEnv('BENCH_LOGIN_USERS', 16, 1, 1000);

/** Before the load: what the JWT scenarios need from the server. */
async function prepare(name, base, user, password, connections) {
  if (name === 'jwt-resource' || name === 'jwt-resource-no-cache') return { token: (await postJson(base, '/auth/login', { username: `${user}-0`, password })).access_token };
  if (name === 'jwt-refresh') {
    const chains = [];
    for (let i = 0; i < connections; i++) chains.push((await postJson(base, '/auth/login', { username: `${user}-${i % loginUsers()}`, password })).refresh_token);
    return { chains };
  }
  return {};
}

let clientCount = 0;

/** Per connection: POST /auth/refresh with the chain's current token; keep the new one. */
function refreshRequests(c, chains) {
  const i = clientCount++ % chains.length;
  return [
    {
      method: 'POST',
      path: '/auth/refresh',
      setupRequest(req) {
        return { ...req, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: chains[i] }) };
      },
      onResponse(status, body) {
        if (status !== 200) return fail(c, `refresh: status ${status}`);
        const next = JSON.parse(body).refresh_token;
        if (!next) return fail(c, 'refresh: no refresh_token');
        chains[i] = next;
        c.ok++;
      },
    },
  ];
}

/** Per connection: POST /auth/login as its own user. */
function loginRequests(c, user, password) {
  const body = JSON.stringify({ username: `${user}-${clientCount++ % loginUsers()}`, password });
  return [
    {
      method: 'POST',
      path: '/auth/login',
      setupRequest: (req) => ({ ...req, headers: { 'content-type': 'application/json' }, body }),
      onResponse(status, resBody) {
        if (status !== 200) return fail(c, `login: status ${status}`);
        if (!JSON.parse(resBody).access_token) return fail(c, 'login: no access_token');
        c.ok++;
      },
    },
  ];
}

function scenario(name, user, password, prepared = {}) {
  switch (name) {
    case 'jwt-resource':
    case 'jwt-resource-no-cache':
      return { path: '/api/jwt/resources', expect: 200, headers: { authorization: `Bearer ${prepared.token}` } };
    case 'jwt-login':
      return { path: '/auth/login', setupClient: (c) => (client) => client.setRequests(loginRequests(c, user, password)) };
    case 'jwt-refresh':
      return { path: '/auth/refresh', setupClient: (c) => (client) => client.setRequests(refreshRequests(c, prepared.chains)) };
    case 'public':
      return { path: '/api/public', expect: 200 };
    case 'basic-warm':
    case 'basic-no-cache':
      return { path: BASIC_PATH, expect: 200, headers: { authorization: basicHeader(user, password) } };
    // Every request is a different guess, as an attacker's would be: the server merges concurrent
    // checks of identical credentials, so repeating one wrong password would measure that, not argon2.
    case 'basic-wrong-password':
      return { path: BASIC_PATH, expect: 401, requests: distinctGuesses((n) => basicHeader(user, `${password}-wrong-${n}`)) };
    case 'basic-unknown-user':
      return { path: BASIC_PATH, expect: 401, requests: distinctGuesses((n) => basicHeader(`${user}-nobody-${n}`, password)) };
    case 'digest-handshake':
      return { path: DIGEST_PATH, setupClient: (c) => (client) => client.setRequests(handshakeRequests(c, user, password)) };
    case 'digest-reused-nonce':
      return { path: DIGEST_PATH, setupClient: (c) => (client) => client.setRequests(reusedNonceRequests(c, user, password)) };
    default:
      throw new Error(`unknown scenario "${name}"; choose from ${Object.keys(SCENARIOS).join(', ')}`);
  }
}

let guesses = 0;

/** One request whose Authorization value is built anew each time from a process-wide counter. */
function distinctGuesses(authorization) {
  return [{ method: 'GET', path: BASIC_PATH, setupRequest: (req) => ({ ...req, headers: { authorization: authorization(++guesses) } }) }];
}

/** Per connection: [unauthenticated GET → 401 + challenges, authorized GET → 200 + rspauth]. */
function handshakeRequests(c, user, password) {
  const dc = new DigestClient(user, password, DIGEST_PATH);
  const st = { ch: undefined, expected: undefined, t0: 0 };
  return [
    {
      method: 'GET',
      path: DIGEST_PATH,
      setupRequest(req) {
        req.headers = {};
        st.ch = undefined;
        st.t0 = performance.now();
        return req;
      },
      onResponse(status, _body, _ctx, headers) {
        if (status !== 401) return fail(c, `challenge: status ${status}`);
        st.ch = firstSha256Challenge(headers);
        if (!st.ch) return fail(c, 'challenge: no SHA-256 challenge');
        c.ok++;
      },
    },
    {
      method: 'GET',
      path: DIGEST_PATH,
      setupRequest(req) {
        if (!st.ch) return null; // no usable challenge: start the handshake again
        const a = dc.authorize(st.ch, 1);
        st.expected = a;
        req.headers = { authorization: a.header };
        return req;
      },
      onResponse(status, _body, _ctx, headers) {
        if (status !== 200) return fail(c, `authorized: status ${status}`);
        const problem = DigestClient.verify(headers, st.expected);
        if (problem) return fail(c, `authorized: ${problem}`);
        c.ok++;
        c.handshakes++;
        c.handshakeMs.push(performance.now() - st.t0);
      },
    },
  ];
}

/** Per connection: fetch one nonce, then nc = 1, 2, 3, … on it; a 401 stale=true gives a new one. */
function reusedNonceRequests(c, user, password) {
  const dc = new DigestClient(user, password, DIGEST_PATH);
  const st = { ch: undefined, nc: 0, expected: undefined };
  return [
    {
      method: 'GET',
      path: DIGEST_PATH,
      setupRequest(req) {
        if (!st.ch) {
          st.expected = undefined;
          req.headers = {};
        } else {
          st.expected = dc.authorize(st.ch, ++st.nc);
          req.headers = { authorization: st.expected.header };
        }
        return req;
      },
      onResponse(status, _body, _ctx, headers) {
        if (!st.expected) {
          // The nonce fetch.
          st.ch = status === 401 ? firstSha256Challenge(headers) : undefined;
          st.nc = 0;
          if (!st.ch) return fail(c, `nonce fetch: status ${status}${status === 401 ? ', no SHA-256 challenge' : ''}`);
          c.nonces++;
          return;
        }
        if (status === 200) {
          const problem = DigestClient.verify(headers, st.expected);
          if (problem) return fail(c, problem);
          c.ok++;
          return;
        }
        const fresh = status === 401 ? firstSha256Challenge(headers) : undefined;
        if (fresh && fresh.stale === 'true') {
          // Expired nonce or nc above the limit: carry on with the new nonce (RFC 7616 §3.3).
          c.stale++;
          st.ch = fresh;
          st.nc = 0;
          return;
        }
        fail(c, `nc=${st.nc}: status ${status}`);
        st.ch = undefined; // fetch a new nonce
      },
    },
  ];
}

// ---------------------------------------------------------------------------------------------

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function round(n, digits = 2) {
  return n === null || n === undefined ? null : Number(n.toFixed(digits));
}

async function runOnce(base, spec, seconds, connections, c) {
  const opts = {
    url: new URL(spec.path, base).toString(),
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
    headers: spec.headers ?? {},
  };
  if (spec.requests) opts.requests = spec.requests;
  if (spec.setupClient) {
    opts.requests = [{ method: spec.path.startsWith('/auth/') ? 'POST' : 'GET', path: spec.path }];
    opts.setupClient = spec.setupClient(c);
  }
  return autocannon(opts);
}

async function main() {
  const [name, base] = process.argv.slice(2);
  if (!name || !base) {
    process.stderr.write(`usage: node bench/load.mjs <scenario> <base-url>\nscenarios:\n${Object.entries(SCENARIOS).map(([k, v]) => `  ${k.padEnd(22)} ${v}`).join('\n')}\n`);
    process.exit(2);
  }
  const duration = intEnv('BENCH_DURATION', 10, 1, 3600);
  const connections = intEnv('BENCH_CONNECTIONS', 16, 1, 1000);
  const warmup = intEnv('BENCH_WARMUP', 2, 0, 600);
  const user = process.env.BENCH_USER || 'bench';
  const password = process.env.BENCH_PASSWORD ?? '';
  if (name !== 'public' && !password) throw new Error('BENCH_PASSWORD is not set');
  const spec = scenario(name, user, password, await prepare(name, base, user, password, connections));

  if (warmup > 0) await runOnce(base, spec, warmup, connections, counters());
  const c = counters();
  const r = await runOnce(base, spec, duration, connections, c);

  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  const total = r.requests.total;
  const seconds = r.duration;
  let ok;
  let bad;
  if (spec.setupClient) {
    ok = c.ok;
    bad = c.bad;
  } else {
    ok = statuses[spec.expect] ?? 0;
    bad = Object.entries(statuses).filter(([k]) => Number(k) !== spec.expect).reduce((s, [, n]) => s + n, 0);
    if (bad) c.reasons[`unexpected status (expected ${spec.expect})`] = bad;
  }
  if (r.mismatches) c.reasons.mismatches = r.mismatches;
  const hs = c.handshakeMs.sort((a, b) => a - b);
  const out = {
    scenario: name,
    description: SCENARIOS[name],
    url: new URL(spec.path, base).toString(),
    connections,
    warmupSeconds: warmup,
    seconds: round(seconds, 2),
    requests: total,
    requestsPerSec: round(total / seconds, 1),
    // Responses that were what the scenario expects (and, for Digest, verified).
    okPerSec: round(ok / seconds, 1),
    expectedStatus: spec.expect ?? (name === 'digest-handshake' ? '401 then 200' : 200),
    ...(name === 'jwt-login' || name === 'jwt-refresh' ? { checkedOk: c.ok } : {}),
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: round(r.latency.mean, 2) },
    statuses,
    non2xx: r.non2xx,
    errors: bad + r.errors + r.timeouts,
    errorDetail: { connectionErrors: r.errors, timeouts: r.timeouts, ...c.reasons },
  };
  if (name === 'digest-handshake') {
    out.handshakes = c.handshakes;
    out.handshakesPerSec = round(c.handshakes / seconds, 1);
    out.handshakeLatencyMs = { p50: round(percentile(hs, 50), 2), p99: round(percentile(hs, 99), 2) };
  }
  if (name === 'digest-reused-nonce') {
    out.noncesFetched = c.nonces;
    out.staleRefreshes = c.stale;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench/load.mjs: ${err.stack ?? err}\n`);
  process.exit(1);
});
