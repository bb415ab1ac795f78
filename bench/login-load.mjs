#!/usr/bin/env node
// The load of the login benchmark (bench/login-compare.mjs), in its own process: `connections`
// virtual browsers, each looping complete OpenID Connect round trips, every one with a fresh cookie
// jar (a new browser): authorization request → the login page → its form posted with the password →
// the consent page → its form posted with "allow" → the redirect to the callback with a code → the
// code exchanged at the token endpoint (client_secret_basic, PKCE S256) → UserInfo with the access
// token. Redirects are followed by hand (fetch with redirect: 'manual'); pages are read like a
// browser would: the form's action and hidden inputs, plus the username and password on a page with
// a password field, plus decision=allow on a page with that button. A round trip counts only if it
// saw a login page and a consent page, came back with the state, got an ID token with the nonce,
// and UserInfo answered with the sub and the email; anything else is an error (the first one's
// detail goes to stderr once).
//   node bench/login-load.mjs '<json spec>' | @file
//   spec: { issuer, authorizePath, tokenPath, userinfoPath, clientId, clientSecret, redirectUri,
//           scope, users: [{ username, email }], password, duration, warmup, connections }
// Browser i signs in as users[i % users.length]: with one user per browser no two logins in flight
// share a username and password (Gatehouse merges concurrent checks of identical credentials).
// With serverPid (Linux), the server process's CPU time over the measured period is read from /proc.
// Prints one JSON line: roundTripsPerSec, p50/p99 (ms per round trip), requestsPerRoundTrip,
// completed, errors, serverCpuMsPerRoundTrip.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

const arg = process.argv[2];
const spec = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
const origin = new URL(spec.issuer).origin;
const basic = `Basic ${Buffer.from(`${encodeURIComponent(spec.clientId)}:${encodeURIComponent(spec.clientSecret)}`).toString('base64')}`;
const MAX_STEPS = 16;

/** A browser's cookie jar for one host: name, value and path (RFC 6265 path matching, Max-Age and Expires). */
class CookieJar {
  cookies = new Map();
  store(url, res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url.pathname);
      let expired = false;
      for (const a of attrs) {
        const i = a.indexOf('=');
        const key = (i < 0 ? a : a.slice(0, i)).trim().toLowerCase();
        const v = i < 0 ? '' : a.slice(i + 1).trim();
        if (key === 'path' && v.startsWith('/')) path = v;
        else if (key === 'max-age' && /^-?\d+$/.test(v)) expired = Number(v) <= 0;
        else if (key === 'expires' && !attrs.some((x) => /^\s*max-age=/i.test(x))) expired = Date.parse(v) <= Date.now();
      }
      const key = `${name};${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }
  header(url) {
    const p = url.pathname;
    const matching = [...this.cookies.values()].filter((c) => p === c.path || (p.startsWith(c.path) && (c.path.endsWith('/') || p[c.path.length] === '/')));
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ') || undefined;
  }
}
const defaultPath = (p) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));

const unescapeHtml = (s) => s.replace(/&(amp|quot|lt|gt|#39);/g, (_, e) => ({ amp: '&', quot: '"', lt: '<', gt: '>', '#39': "'" })[e]);
const attr = (tag, name) => {
  const m = new RegExp(`\\s${name}="([^"]*)"`, 'i').exec(tag);
  return m ? unescapeHtml(m[1]) : undefined;
};

/** The page's first POST form: its action and the fields a browser would submit for us. */
function readForm(html, pageUrl) {
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const openTag = /<form\b[^>]*>/i.exec(form[0])[0];
  if ((attr(openTag, 'method') ?? 'get').toLowerCase() !== 'post') return undefined;
  const fields = new URLSearchParams();
  let password = false;
  for (const [tag] of form[1].matchAll(/<input\b[^>]*>/gi)) {
    const type = (attr(tag, 'type') ?? 'text').toLowerCase();
    if (type === 'hidden') fields.append(attr(tag, 'name') ?? '', attr(tag, 'value') ?? '');
    if (type === 'password') password = true;
  }
  const allow = [...form[1].matchAll(/<button\b[^>]*>/gi)].some(([tag]) => attr(tag, 'name') === 'decision' && attr(tag, 'value') === 'allow');
  return { action: new URL(attr(openTag, 'action') ?? pageUrl.href, pageUrl), fields, kind: password ? 'login' : allow ? 'consent' : 'other' };
}

class RoundTripError extends Error {}
const fail = (msg) => {
  throw new RoundTripError(msg);
};
const snippet = (s) => s.replace(/\s+/g, ' ').slice(0, 300);

async function send(trip, jar, url, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  const cookie = jar?.header(url);
  if (cookie) headers.cookie = cookie;
  trip.requests++;
  const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  if (jar) jar.store(url, res);
  return res;
}

/** One complete round trip in a new browser. */
async function roundTrip(trip, user) {
  const jar = new CookieJar();
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  let url = new URL(`${spec.issuer}${spec.authorizePath}?${new URLSearchParams({ client_id: spec.clientId, redirect_uri: spec.redirectUri, response_type: 'code', scope: spec.scope, state, nonce, code_challenge: challenge, code_challenge_method: 'S256', prompt: 'consent' })}`);
  let res = await send(trip, jar, url);
  const seen = { login: 0, consent: 0 };
  let callback;
  for (let step = 0; !callback; step++) {
    if (step > MAX_STEPS) fail(`no callback after ${MAX_STEPS} steps (last: ${res.status} ${url.pathname})`);
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const location = res.headers.get('location');
      if (!location) fail(`${res.status} without Location at ${url.pathname}`);
      if (location.startsWith(spec.redirectUri)) callback = new URL(location);
      else {
        url = new URL(location, url);
        if (url.origin !== origin) fail(`redirect off the server: ${location}`);
        res = await send(trip, jar, url);
      }
      continue;
    }
    const html = await res.text();
    if (res.status !== 200 || !/^text\/html/i.test(res.headers.get('content-type') ?? '')) fail(`${res.status} at ${url.pathname}: ${snippet(html)}`);
    const form = readForm(html, url);
    if (!form || form.kind === 'other') fail(`a page without a login or consent form at ${url.pathname}: ${snippet(html)}`);
    if (form.action.origin !== origin) fail(`a form posting off the server: ${form.action}`);
    seen[form.kind]++;
    if (seen[form.kind] > 1) fail(`the ${form.kind} page came again at ${url.pathname}: ${snippet(html)}`);
    if (form.kind === 'login') {
      form.fields.append('username', user.username);
      form.fields.append('password', spec.password);
    } else form.fields.append('decision', 'allow');
    url = form.action;
    res = await send(trip, jar, url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: form.fields.toString() });
  }
  if (!seen.login || !seen.consent) fail(`reached the callback without ${seen.login ? 'a consent' : 'a login'} page: ${callback}`);
  const q = callback.searchParams;
  if (q.has('error')) fail(`callback error: ${q.get('error')}: ${q.get('error_description')}`);
  if (q.get('state') !== state) fail(`callback state mismatch: ${callback}`);
  const code = q.get('code');
  if (!code) fail(`callback without a code: ${callback}`);

  // The client's back channel: no browser cookies.
  res = await send(trip, undefined, new URL(`${spec.issuer}${spec.tokenPath}`), {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: spec.redirectUri, code_verifier: verifier }).toString(),
  });
  const tokenText = await res.text();
  if (res.status !== 200) fail(`token ${res.status}: ${snippet(tokenText)}`);
  const tokens = JSON.parse(tokenText);
  if (typeof tokens.id_token !== 'string' || typeof tokens.access_token !== 'string') fail(`token response without id_token or access_token: ${snippet(tokenText)}`);
  if (!/^bearer$/i.test(tokens.token_type ?? '')) fail(`token_type ${tokens.token_type}`);
  let claims;
  try {
    claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString());
  } catch {
    fail(`unreadable id_token: ${tokens.id_token.slice(0, 80)}`);
  }
  if (claims.nonce !== nonce || (claims.aud !== spec.clientId && !(Array.isArray(claims.aud) && claims.aud.includes(spec.clientId))) || !claims.sub) fail(`id_token claims: ${JSON.stringify(claims)}`);

  res = await send(trip, undefined, new URL(`${spec.issuer}${spec.userinfoPath}`), { headers: { authorization: `Bearer ${tokens.access_token}` } });
  const infoText = await res.text();
  if (res.status !== 200) fail(`userinfo ${res.status}: ${snippet(infoText)}`);
  const info = JSON.parse(infoText);
  if (info.sub !== claims.sub || info.email !== user.email) fail(`userinfo: ${snippet(infoText)}`);
}

/** CPU seconds (user + system) of a process so far, or undefined off Linux. */
function cpuSeconds(pid) {
  const file = `/proc/${pid}/stat`;
  if (!pid || !existsSync(file)) return undefined;
  const fields = readFileSync(file, 'utf8').split(') ').at(-1).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const sorted = (a) => [...a].sort((x, y) => x - y);
const pct = (a, p) => (a.length ? a[Math.min(a.length - 1, Math.floor(a.length * p))] : 0);

const t0 = performance.now();
const measureFrom = t0 + (spec.warmup ?? 2) * 1000;
const end = measureFrom + (spec.duration ?? 10) * 1000;
let completed = 0;
let errors = 0;
let warmupCompleted = 0;
let warmupErrors = 0;
let requests = 0;
let firstError;
const latencies = [];
const cpu = {};
setTimeout(() => (cpu.start = cpuSeconds(spec.serverPid)), Math.max(0, measureFrom - performance.now()));
setTimeout(() => (cpu.end = cpuSeconds(spec.serverPid)), Math.max(0, end - performance.now()));
const errorKinds = {};

async function browser(user) {
  while (performance.now() < end) {
    const start = performance.now();
    let error;
    const trip = { requests: 0 };
    try {
      await roundTrip(trip, user);
    } catch (err) {
      error = err;
    }
    const done = performance.now();
    if (done > end) break; // finished after the measured period: not counted
    const inWindow = start >= measureFrom;
    // A round trip that straddles the start of the measured period counts for it when it ends inside it.
    const counted = done >= measureFrom;
    if (error) {
      if (!firstError) {
        firstError = error;
        process.stderr.write(`login-load: first error (${spec.issuer}): ${error instanceof RoundTripError ? error.message : error.stack}\n`);
      }
      const kind = error instanceof RoundTripError ? error.message.split(': ')[0].replace(/[A-Za-z0-9_-]{20,}/g, '…').slice(0, 80) : error.name;
      if (counted) (errors++, (errorKinds[kind] = (errorKinds[kind] ?? 0) + 1));
      else warmupErrors++;
    } else if (counted) {
      completed++;
      requests += trip.requests;
      if (inWindow) latencies.push(done - start);
    } else warmupCompleted++;
  }
}

await Promise.all(Array.from({ length: spec.connections ?? 16 }, (_, i) => browser(spec.users[i % spec.users.length])));
const measured = (end - measureFrom) / 1000;
const l = sorted(latencies);
process.stdout.write(JSON.stringify({
  roundTripsPerSec: Number((completed / measured).toFixed(1)),
  completed,
  errors,
  errorKinds,
  warmupCompleted,
  warmupErrors,
  seconds: Number(measured.toFixed(3)),
  p50: Number(pct(l, 0.5).toFixed(1)),
  p99: Number(pct(l, 0.99).toFixed(1)),
  requestsPerRoundTrip: completed ? Number((requests / completed).toFixed(1)) : 0,
  serverCpuMsPerRoundTrip: cpu.start !== undefined && cpu.end !== undefined && completed ? Number((((cpu.end - cpu.start) * 1000) / completed).toFixed(1)) : null,
}) + '\n');
