// Attacks on the JWT access tokens, over real HTTP against GET /api/jwt/resources (and /auth/me):
// catalogue §4.3 JW-01 … JW-16, JW-25, JW-26 and §4.8 RS-01, RS-02, RS-04, RS-09, RS-11.
//   - algorithm confusion: alg none/None/NONE/nOnE (JW-01/02), HS256 keyed with our public key as PEM,
//     indented PEM, JWK JSON and DER, on ES256 and RS256 servers (JW-03), ES256 r = s = 0 (JW-04);
//   - keys named by the token: embedded jwk (JW-05), jku/x5u never fetched (JW-06), hostile kid values
//     with no side effect (JW-07), unknown kid and the store re-read cooldown (JW-08), a key of another
//     Gatehouse (RS-04);
//   - claims under a genuine signature (the server's own private key): exp/nbf/iat and the leeway
//     (JW-09, also by moving a ManualClock past a real login), required claims (JW-10), iss/aud
//     (JW-11), typ (JW-12);
//   - the JWS text: duplicate members (JW-13), crit (JW-14), non-canonical base64url (JW-15), size,
//     depth and segment count (JW-16), single-bit flips anywhere;
//   - the request: token in the query or a GET form body (JW-25, RS-09), the refresh token as a bearer
//     token (JW-26), the bare challenge (RS-01), malformed headers (RS-02), scheme case and spaces (RS-11);
//   - the verified-token cache: expiry on the cached path, variants of a cached token checked in full;
//   - ES256 (default), RS256 and EdDSA servers (alg swaps, JW-03), and a smoke block on both engines.
// Every 401 must carry `Bearer realm="gatehouse", error="invalid_token"` and a JSON invalid_token body;
// every 400 an invalid_request challenge; no answer is a 500 or shows a stack trace. The checks read no
// database, so the attacks run on SQLite only.
import http from 'node:http';
import { createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { FAST_ARGON2, rawRequest } from './support/basic-extra.js';
import { describeEachEngine } from './support/engines.js';
import {
  attackerKey, b64u, flipBit, forge, forgeText, hs256, serverKey, withSegment, type Json,
} from './support/forge.js';
import { request, type RawResponse } from './support/http.js';
import { PW, bearer, decodeSegment, login, type TokenPair } from './support/jwt-login.js';
import { startOne } from './support/server.js';
import type { EngineName } from './support/engines.js';

const RESOURCE = '/api/jwt/resources';
const CLIENT = 'gatehouse-login';
const STACK = /\n\s+at |\bat .+:\d+:\d+|node_modules|\/src\//;
type Server = Awaited<ReturnType<typeof startOne>>;
type Key = Awaited<ReturnType<typeof attackerKey>>;

// ---- expectations -------------------------------------------------------------------------------

function expectSane(r: RawResponse): void {
  expect(r.status, r.body).not.toBe(500);
  expect(r.body).not.toMatch(STACK);
}

function expectInvalidToken(r: RawResponse, description?: RegExp): void {
  expectSane(r);
  expect(r.status, r.body).toBe(401);
  const challenges = r.all('www-authenticate');
  expect(challenges).toHaveLength(1);
  expect(challenges[0]).toMatch(/^Bearer realm="gatehouse", error="invalid_token"/);
  if (description) expect(challenges[0]).toMatch(description);
  expect(r.headers['cache-control']).toBe('no-store');
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(r.json()).toMatchObject({ error: 'invalid_token' });
}

function expectInvalidRequest(r: RawResponse): void {
  expectSane(r);
  expect(r.status, r.body).toBe(400);
  expect(r.all('www-authenticate')).toEqual([expect.stringMatching(/^Bearer realm="gatehouse", error="invalid_request"/)]);
  expect(r.json()).toMatchObject({ error: 'invalid_request' });
}

function expectOk(r: RawResponse): void {
  expectSane(r);
  expect(r.status, r.body).toBe(200);
  expect(r.json()).toMatchObject({ scheme: 'Bearer', client_id: CLIENT });
}

// ---- a server and the tokens it would (or would never) issue ------------------------------------

interface Rig {
  s: Server;
  clock: ManualClock;
  pair: TokenPair;
  userId: string;
  /** The server's key: genuine signatures over claims we choose. */
  key: Key;
  now(): number;
  claims(over?: Json): Json;
  header(over?: Json): Json;
  /** Genuinely signed; `h` and `c` override (undefined removes) header members and claims. */
  genuine(h?: Json, c?: Json): Promise<string>;
  get(token: string, path?: string): Promise<RawResponse>;
}

function rig(engine: EngineName, flags: Record<string, string | boolean> = {}): Rig {
  const r = { clock: new ManualClock() } as Rig;
  beforeAll(async () => {
    r.s = await startOne(engine, { clock: r.clock, flags: { ...FAST_ARGON2, throttle: false, ...flags } });
    await r.s.addUser('alice', PW);
    r.userId = (await r.s.g.accounts.find('alice'))!.id;
    r.pair = await login(r.s.url);
    r.key = serverKey(r.s);
  });
  afterAll(async () => r.s?.close());
  r.now = () => Math.floor(r.clock.now() / 1000);
  r.claims = (over = {}) => ({
    iss: r.s.g.settings.issuer, sub: r.userId, aud: r.s.g.settings.accessTokenAudience, exp: r.now() + 600, iat: r.now(),
    jti: randomBytes(16).toString('base64url'), client_id: CLIENT, auth_time: r.now(), ...over,
  });
  r.header = (over = {}) => ({ alg: r.key.alg, kid: r.key.kid, typ: 'at+jwt', ...over });
  r.genuine = (h = {}, c = {}) => forge(r.header(h), r.claims(c), r.key.privateKey, r.key.alg);
  r.get = async (token, path = RESOURCE) => {
    const res = await bearer(`${r.s.url}${path}`, token);
    expectSane(res);
    return res;
  };
  return r;
}

/** The published JWK of the server's signing key, as an attacker would fetch it. */
async function publishedJwk(s: Server): Promise<JsonWebKey> {
  const r = await request(`${s.url}/.well-known/jwks.json`);
  expect(r.status).toBe(200);
  const jwks = r.json() as { keys: JsonWebKey[] };
  return jwks.keys.find((k) => k.kid === s.g.keys.signing().kid)!;
}

/** Every form of a public key an HMAC library might be handed as "the secret" (JW-03). */
async function publicKeyForms(s: Server): Promise<Array<[string, string | Buffer]>> {
  const jwk = await publishedJwk(s);
  const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
  const pem = keyObject.export({ type: 'spki', format: 'pem' }) as string;
  const forms: Array<[string, string | Buffer]> = [
    ['SPKI PEM', pem],
    ['PEM with a leading newline', `\n${pem}`],
    ['PEM with leading spaces', `   ${pem}`],
    ['PEM without its final newline', pem.trimEnd()],
    ['JWK JSON as published', JSON.stringify(jwk)],
    ['JWK JSON of the key members', JSON.stringify(keyObject.export({ format: 'jwk' }))],
    ['SPKI DER', keyObject.export({ type: 'spki', format: 'der' })],
  ];
  if (jwk.kty === 'RSA') forms.push(['PKCS#1 PEM', keyObject.export({ type: 'pkcs1', format: 'pem' }) as string]);
  return forms;
}

async function expectHmacConfusionRefused(t: Rig): Promise<void> {
  for (const [name, secret] of await publicKeyForms(t.s)) {
    for (const header of [t.header({ alg: 'HS256' }), t.header({ alg: 'HS256', kid: undefined })]) {
      const r = await t.get(hs256(header, t.claims(), secret));
      expect(r.status, `${name}, kid ${String(header.kid)}`).toBe(401);
      expectInvalidToken(r);
    }
  }
}

// ---- the attacks --------------------------------------------------------------------------------

describe('JWT access-token attacks [sqlite]', () => {
  const t = rig('sqlite');
  let attacker: Key;
  beforeAll(async () => {
    attacker = await attackerKey('ES256');
  });

  it('accepts a token from the login (200), and /auth/me names the user', async () => {
    expect(decodeSegment(t.pair.access_token, 0)).toEqual({ alg: 'ES256', kid: t.key.kid, typ: 'at+jwt' });
    expectOk(await t.get(t.pair.access_token));
    const me = await t.get(t.pair.access_token, '/auth/me');
    expect(me.status).toBe(200);
    expect(me.json()).toMatchObject({ id: t.userId, username: 'alice', client_id: CLIENT });
    // The forging helpers produce tokens the server accepts, so each refusal below is the attack's.
    expectOk(await t.get(await t.genuine()));
  });

  it('answers a genuinely signed token for a user who does not exist: 200 at the resource (stateless), 401 at /auth/me', async () => {
    const token = await t.genuine({}, { sub: 'no-such-user' });
    expectOk(await t.get(token));
    expectInvalidToken(await t.get(token, '/auth/me'));
  });

  // -- algorithms --

  it('JW-01 refuses alg "none" with an empty signature', async () => {
    const unsigned = `${b64u(JSON.stringify(t.header({ alg: 'none' })))}.${b64u(JSON.stringify(t.claims()))}.`;
    expectInvalidToken(await t.get(unsigned));
    // The same with the kid removed, and with the signature of the genuine token left in place.
    const noKid = `${b64u(JSON.stringify(t.header({ alg: 'none', kid: undefined })))}.${b64u(JSON.stringify(t.claims()))}.`;
    expectInvalidToken(await t.get(noKid));
    const genuine = await t.genuine();
    expectInvalidToken(await t.get(withSegment(genuine, 0, b64u(JSON.stringify(t.header({ alg: 'none' })))).replace(/\.[^.]*$/, '.')));
  });

  it('JW-02 refuses the case variants None, NONE, nOnE', async () => {
    for (const alg of ['None', 'NONE', 'nOnE']) {
      const token = `${b64u(JSON.stringify(t.header({ alg })))}.${b64u(JSON.stringify(t.claims()))}.`;
      expectInvalidToken(await t.get(token));
    }
  });

  it('JW-03 refuses HS256 keyed with our public key (PEM, indented PEM, JWK JSON, DER)', async () => {
    await expectHmacConfusionRefused(t);
  });

  it('JW-04 refuses an ES256 signature r = s = 0 over a genuine header and payload', async () => {
    const genuine = await t.genuine();
    expectInvalidToken(await t.get(withSegment(genuine, 2, b64u(Buffer.alloc(64)))));
    // r = s = 0 in DER, and a zero-length signature segment.
    expectInvalidToken(await t.get(withSegment(genuine, 2, b64u(Buffer.from('3006020100020100', 'hex')))));
    expectInvalidToken(await t.get(genuine.replace(/\.[^.]*$/, '.')));
  });

  it('refuses a genuine ES256 signature presented under another alg (RS256, EdDSA, ES384, PS256)', async () => {
    const genuine = await t.genuine();
    for (const alg of ['RS256', 'EdDSA', 'ES384', 'ES512', 'PS256', 'es256']) {
      expectInvalidToken(await t.get(withSegment(genuine, 0, b64u(JSON.stringify(t.header({ alg }))))));
    }
  });

  // -- keys named by the token --

  it('JW-05 ignores a jwk header carrying the attacker key (with no kid, its kid, or our kid)', async () => {
    for (const kid of [undefined, attacker.kid, t.key.kid]) {
      const token = await forge(t.header({ kid, jwk: attacker.publicJwk }), t.claims(), attacker.privateKey);
      expectInvalidToken(await t.get(token));
    }
  });

  it('JW-06 never fetches a key named by jku or x5u (no request reaches the URL)', async () => {
    let hits = 0;
    const jwks = JSON.stringify({ keys: [attacker.publicJwk] });
    const spy = http.createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    await new Promise<void>((resolve) => spy.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(spy.address() as { port: number }).port}`;
    try {
      for (const kid of [undefined, attacker.kid, t.key.kid]) {
        for (const member of [{ jku: `${base}/jwks.json` }, { x5u: `${base}/cert.pem` }, { jku: `${base}/jwks.json`, x5u: `${base}/cert.pem` }]) {
          const token = await forge(t.header({ kid, ...member }), t.claims(), attacker.privateKey);
          expectInvalidToken(await t.get(token));
        }
      }
      await new Promise((r) => setTimeout(r, 200)); // room for a late, asynchronous fetch
      expect(hits).toBe(0);
    } finally {
      await new Promise((r) => spy.close(r));
    }
  });

  it('JW-07 refuses hostile kid values without side effects, and still serves valid tokens afterwards', async () => {
    const usersBefore = (await t.s.g.accounts.list()).map((u) => u.username).sort();
    const kids: unknown[] = [
      '../../../../dev/null', "' OR '1'='1", "x'; DROP TABLE users; --", '/etc/passwd', '%00', '', 'a'.repeat(129), 'k'.repeat(2048),
      42, 0, -1, 1e308, true, null, { kid: t.key.kid }, [t.key.kid], {},
    ];
    for (const kid of kids) {
      for (const key of [t.key, attacker]) {
        const token = await forge(t.header({ kid }), t.claims(), key.privateKey);
        expectInvalidToken(await t.get(token));
      }
    }
    expectOk(await t.get(t.pair.access_token));
    expectOk(await t.get(await t.genuine()));
    expect((await t.s.g.accounts.list()).map((u) => u.username).sort()).toEqual(usersBefore);
  });

  it('JW-07 a 10 KB kid: the header is over the Authorization size limit, so 400 invalid_request before any key lookup', async () => {
    // MAX_AUTHORIZATION_LENGTH (4096) stops it first; a 2 KB kid above reaches the key ring and gets 401.
    const token = await forge(t.header({ kid: 'k'.repeat(10 * 1024) }), t.claims(), t.key.privateKey);
    expectInvalidRequest(await t.get(token));
    expectOk(await t.get(t.pair.access_token));
  });

  it('JW-08 refuses an unknown kid, and re-reads the store for unknown kids at most once per cooldown', async () => {
    expectInvalidToken(await t.get(await forge(t.header({ kid: attacker.kid }), t.claims(), attacker.privateKey)));
    const list = vi.spyOn(t.s.g.store.signingKeys, 'list');
    try {
      t.clock.advance(6000); // past the 5 s cooldown
      for (let i = 0; i < 5; i++) {
        const other = i % 2 ? attacker.kid : `unknown-${i}`;
        expectInvalidToken(await t.get(await forge(t.header({ kid: other }), t.claims(), attacker.privateKey)));
      }
      expect(list).toHaveBeenCalledTimes(1);
    } finally {
      list.mockRestore();
    }
    expectOk(await t.get(t.pair.access_token));
  });

  it('RS-04 refuses tokens signed by the key of another Gatehouse (its own database)', async () => {
    const other = await startOne('sqlite', { flags: { ...FAST_ARGON2, throttle: false } });
    try {
      await other.addUser('alice', PW);
      const theirs = await login(other.url);
      expect(theirs.access_token).not.toBe(t.pair.access_token);
      expectInvalidToken(await t.get(theirs.access_token));
      // Their key, but our iss, aud, sub and even our kid in the header.
      const foreign = serverKey(other);
      expectInvalidToken(await t.get(await forge(t.header({ kid: foreign.kid }), t.claims(), foreign.privateKey)));
      expectInvalidToken(await t.get(await forge(t.header(), t.claims(), foreign.privateKey)));
      // And the other way round: ours is refused there.
      const r = await bearer(`${other.url}${RESOURCE}`, t.pair.access_token);
      expectInvalidToken(r);
    } finally {
      await other.close();
    }
  });

  // -- claims under a genuine signature --

  it('JW-09 exp: beyond the leeway is refused as expired; 10 s in the past (within 30 s) is accepted', async () => {
    for (const ago of [31, 60, 3600]) {
      expectInvalidToken(await t.get(await t.genuine({}, { exp: t.now() - ago, iat: t.now() - 700 })), /error_description="[^"]*expire/i);
    }
    expectOk(await t.get(await t.genuine({}, { exp: t.now() - 10, iat: t.now() - 700 })));
    expectOk(await t.get(await t.genuine({}, { exp: t.now() - 29, iat: t.now() - 700 })));
  });

  it('JW-09 nbf and iat in the future: beyond the leeway refused, within it accepted', async () => {
    expectInvalidToken(await t.get(await t.genuine({}, { nbf: t.now() + 120 })));
    expectInvalidToken(await t.get(await t.genuine({}, { iat: t.now() + 120 })));
    expectInvalidToken(await t.get(await t.genuine({}, { nbf: t.now() + 120, iat: t.now() + 120 })));
    expectOk(await t.get(await t.genuine({}, { nbf: t.now() + 8 })));
    expectOk(await t.get(await t.genuine({}, { iat: t.now() + 8 })));
  });

  it('JW-10 refuses a token without exp, and without jti, client_id, sub, iss, aud or iat', async () => {
    for (const claim of ['exp', 'jti', 'client_id', 'sub', 'iss', 'aud', 'iat']) {
      const r = await t.get(await t.genuine({}, { [claim]: undefined }));
      expect(r.status, `without ${claim}`).toBe(401);
      expectInvalidToken(r);
    }
  });

  it('JW-10 refuses required claims of the wrong type', async () => {
    const wrong: Json[] = [
      { exp: String(t.now() + 600) }, { exp: null }, { iat: String(t.now()) }, { nbf: 'now' },
      { sub: 42 }, { sub: null }, { client_id: 7 }, { client_id: [CLIENT] }, { jti: 1 }, { iss: [t.s.g.settings.issuer] },
    ];
    for (const over of wrong) {
      const r = await t.get(await t.genuine({}, over));
      expect(r.status, JSON.stringify(over)).toBe(401);
      expectInvalidToken(r);
    }
  });

  it('JW-11 refuses a wrong iss and an aud that is not exactly ours; accepts aud [ours]', async () => {
    const iss = t.s.g.settings.issuer;
    const aud = t.s.g.settings.accessTokenAudience;
    for (const over of [
      { iss: 'https://evil.example' }, { iss: `${iss}/` }, { iss: iss.toUpperCase() }, { iss: '' },
      { aud: 'https://other.example' }, { aud: iss }, { aud: `${aud}/` }, { aud: [] }, { aud: ['https://other.example'] },
      { aud: [aud, 'https://other.example'] }, { aud: ['https://other.example', aud] }, { aud: [aud, aud] },
    ]) {
      const r = await t.get(await t.genuine({}, over));
      expect(r.status, JSON.stringify(over)).toBe(401);
      expectInvalidToken(r);
    }
    expectOk(await t.get(await t.genuine({}, { aud: [aud] })));
  });

  it('JW-12 refuses typ JWT, no typ, and other token types; accepts application/at+jwt', async () => {
    for (const typ of ['JWT', undefined, 'id_token+jwt', 'refresh+jwt', 'logout+jwt', 'jwt', 'at+jwt ', 'application/jwt', 'at+jwt; x=1', 1]) {
      const r = await t.get(await t.genuine({ typ }));
      expect(r.status, `typ ${String(typ)}`).toBe(401);
      expectInvalidToken(r);
    }
    expectOk(await t.get(await t.genuine({ typ: 'application/at+jwt' })));
  });

  // -- the JWS text --

  it('JW-13 refuses duplicate member names in the header (alg twice) and payload (sub twice)', async () => {
    const h = t.header();
    const c = t.claims();
    const headerJson = JSON.stringify(h);
    const payloadJson = JSON.stringify(c);
    const sign = (header: string, payload: string) => forgeText(header, payload, t.key.privateKey, t.key.alg);
    // The hand-built path with no duplicate is accepted (so each refusal is the duplicate's).
    expectOk(await t.get(await sign(headerJson, payloadJson)));
    const dupHeaders = [
      `{"alg":"none",${headerJson.slice(1)}`, // "alg" twice, the last one genuine
      `${headerJson.slice(0, -1)},"alg":"${h.alg}"}`, // "alg" twice, both genuine
      `${headerJson.slice(0, -1)},"typ":"at+jwt"}`,
      `${headerJson.slice(0, -1)},"\\u0061lg":"${h.alg}"}`, // the same name, escaped
    ];
    for (const header of dupHeaders) expectInvalidToken(await t.get(await sign(header, payloadJson)));
    const dupPayloads = [
      `{"sub":"someone-else",${payloadJson.slice(1)}`,
      `${payloadJson.slice(0, -1)},"sub":"${c.sub}"}`,
      `${payloadJson.slice(0, -1)},"su\\u0062":"${c.sub}"}`,
      `${payloadJson.slice(0, -1)},"aud":"https://other.example"}`,
      `${payloadJson.slice(0, -1)},"x":{"a":1,"a":2}}`, // nested
    ];
    for (const payload of dupPayloads) expectInvalidToken(await t.get(await sign(headerJson, payload)));
  });

  it('JW-14 refuses crit naming an unknown extension (and an empty crit, and b64:false)', async () => {
    for (const over of [
      { crit: ['x-unknown'], 'x-unknown': true }, { crit: ['x-unknown'] }, { crit: [] }, { crit: 'x-unknown' },
      { crit: ['b64'], b64: false }, { crit: ['exp'] },
    ]) {
      const r = await t.get(await t.genuine(over));
      expect(r.status, JSON.stringify(over)).toBe(401);
      expectInvalidToken(r);
    }
  });

  it('JW-15 refuses non-canonical base64url (padding, +/ alphabet, trailing bits); whitespace is a malformed request', async () => {
    // A genuine token whose signature holds "-" or "_" (ECDSA signatures vary: sign until one does).
    let token = await t.genuine();
    while (!/[-_]/.test(token.split('.')[2]!)) token = await t.genuine();
    const [h, p, sig] = token.split('.') as [string, string, string];
    expectOk(await t.get(token)); // cached from here on: the variants below decode to the same bytes but are other texts
    // 64 bytes → 86 characters: base64 would pad with "==".
    expectInvalidToken(await t.get(`${token}==`));
    expectInvalidToken(await t.get(`${token}=`));
    expectInvalidToken(await t.get(withSegment(token, 2, sig.replace(/-/g, '+').replace(/_/g, '/'))));
    // The last character of an 86-character segment carries 2 bits and 4 unused ones: set those.
    const last = sig.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let low = 1; low < 16; low += 7) {
      const variant = alphabet[(alphabet.indexOf(last) & 0b110000) | low]!;
      expect(Buffer.from(sig.slice(0, -1) + variant, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
      expectInvalidToken(await t.get(withSegment(token, 2, sig.slice(0, -1) + variant)));
    }
    // Padding inside the token and whitespace are outside the RFC 6750 b64token syntax: 400.
    const padded = (seg: string) => seg + '='.repeat((4 - (seg.length % 4)) % 4 || 4);
    expectInvalidRequest(await t.get(`${padded(h)}.${p}.${sig}`));
    expectInvalidRequest(await t.get(`${h}.${padded(p)}.${sig}`));
    expectInvalidRequest(await t.get(`${h}.${p.slice(0, 10)} ${p.slice(10)}.${sig}`));
    expectInvalidRequest(await t.get(`${h}.${p.slice(0, 10)}\t${p.slice(10)}.${sig}`));
  });

  it('JW-16 answers a 16 KB token, deep nesting and extra segments with 400/401 (never 500), quickly', async () => {
    const genuine = await t.genuine();
    const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const claimsJson = JSON.stringify(t.claims());
    const padded = (n: number) => `${genuine}${'A'.repeat(n - genuine.length)}`;
    // These reach Gatehouse: 400 (over its 4096-byte Authorization limit) or 401.
    const reachApp: Array<[string, string]> = [
      ['15 KB token', padded(15 * 1024)],
      ['12 KB payload', withSegment(genuine, 1, b64u(JSON.stringify(t.claims({ pad: 'x'.repeat(9 * 1024) }))))],
      ['depth 5000 payload (arrays)', withSegment(genuine, 1, b64u(`${claimsJson.slice(0, -1)},"x":${deepArray(5000)}}`))],
      ['depth 1000 payload (within the Authorization limit)', withSegment(genuine, 1, b64u(`${claimsJson.slice(0, -1)},"x":${deepArray(1000)}}`))],
      ['depth 1000 header', withSegment(genuine, 0, b64u(`{"alg":"ES256","x":${deepArray(1000)}}`))],
      ['4 segments', `${genuine}.${genuine.split('.')[2]}`],
      ['4 segments, empty last', `${genuine}.`],
      ['5 segments (JWE shape)', `${b64u(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: t.key.kid }))}..${b64u(randomBytes(12))}.${b64u(randomBytes(40))}.${b64u(randomBytes(16))}`],
      ['5 segments (a JWS with two more)', `${genuine}.${genuine.split('.')[0]}.${genuine.split('.')[1]}`],
      ['2 segments', genuine.split('.').slice(0, 2).join('.')],
      ['dots only', '..'],
    ];
    // These put the header block over Node's 16 KB limit (http maxHeaderSize): the HTTP parser answers
    // 431 (RFC 6585) before Gatehouse sees the request. A client error, not a 500, so also accepted.
    const overNodeLimit: Array<[string, string]> = [
      ['16 KB token', padded(16 * 1024)],
      ['depth 5000 payload (objects, 33 KB encoded)', withSegment(genuine, 1, b64u(deepObject(5000)))],
    ];
    for (const [cases, allowed] of [[reachApp, [400, 401]], [overNodeLimit, [400, 401, 431]]] as const) {
      for (const [name, token] of cases) {
        const start = performance.now();
        const r = await t.get(token);
        const ms = performance.now() - start;
        expect(allowed, `${name}: ${r.status} ${r.body}`).toContain(r.status);
        if (r.status === 401) expectInvalidToken(r);
        if (r.status === 400) expectInvalidRequest(r);
        expect(ms, name).toBeLessThan(1000);
      }
    }
    expectOk(await t.get(t.pair.access_token));
  });

  it('refuses any single-bit flip in the header, payload or signature of a valid token', async () => {
    const token = t.pair.access_token;
    expectOk(await t.get(token)); // now in the verified-token cache: each variant must still be checked in full
    const strides: Array<[0 | 1 | 2, number]> = [[0, 5], [1, 23], [2, 11]];
    let tried = 0;
    for (const [segment, stride] of strides) {
      const bits = Buffer.from(token.split('.')[segment]!, 'base64url').length * 8;
      for (let bit = 0; bit < bits; bit += stride) {
        const r = await t.get(flipBit(token, segment, bit));
        expect(r.status, `segment ${segment}, bit ${bit}`).toBe(401);
        expectInvalidToken(r);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(150);
  });

  // -- the request --

  it('JW-25 / RS-09 refuses the token in the query (400 invalid_request), with or without a header', async () => {
    const token = t.pair.access_token;
    for (const path of [RESOURCE, '/auth/me']) {
      expectInvalidRequest(await request(`${t.s.url}${path}?access_token=${token}`));
      expectInvalidRequest(await request(`${t.s.url}${path}?x=1&access%5Ftoken=${token}`));
      expectInvalidRequest(await bearer(`${t.s.url}${path}?access_token=${token}`, token));
    }
  });

  it('RS-09 does not take a token from a form body on GET', async () => {
    const r = await request(`${t.s.url}${RESOURCE}`, {
      method: 'GET', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `access_token=${t.pair.access_token}`,
    });
    expectSane(r);
    expect([400, 401]).toContain(r.status);
  });

  it('JW-26 refuses the refresh token presented as a bearer token', async () => {
    expectInvalidToken(await t.get(t.pair.refresh_token));
    expectInvalidToken(await t.get(t.pair.refresh_token, '/auth/me'));
  });

  it('RS-01 answers no token with exactly `Bearer realm="gatehouse"` and no error', async () => {
    for (const headers of [{}, { authorization: 'Basic YWxpY2U6eA==' }] as Array<Record<string, string>>) {
      const r = await request(`${t.s.url}${RESOURCE}`, { headers });
      expectSane(r);
      expect(r.status).toBe(401);
      expect(r.all('www-authenticate')).toEqual(['Bearer realm="gatehouse"']);
      expect(r.json().error).not.toBe('invalid_token');
    }
  });

  it('RS-02 answers a malformed Authorization: Bearer with 400 invalid_request', async () => {
    const token = t.pair.access_token;
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', `Bearer ${token.slice(0, 20)} ${token.slice(20)}`, `Bearer "${token}"`, `Bearer ${token},`, 'Bearer ###']) {
      const r = await request(`${t.s.url}${RESOURCE}`, { headers: { authorization: value } });
      expect(r.status, JSON.stringify(value)).toBe(400);
      expectInvalidRequest(r);
    }
  });

  it('RS-02 answers two Authorization headers with 400 invalid_request, even when both hold the valid token', async () => {
    const token = t.pair.access_token;
    expectInvalidRequest(await request(`${t.s.url}${RESOURCE}`, { headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] } }));
    expectInvalidRequest(await request(`${t.s.url}${RESOURCE}`, { headers: { authorization: [`Bearer ${token}`, 'Basic YWxpY2U6eA=='] } }));
    const raw = await rawRequest(`${t.s.url}${RESOURCE}`, [`Authorization: Bearer ${token}`, `authorization: Bearer ${token}`]);
    expect(raw.status).toBe(400);
    expect(raw.head).toMatch(/\r\nwww-authenticate: Bearer realm="gatehouse", error="invalid_request"/i);
  });

  it('RS-11 accepts the scheme as bearer and BEARER, and extra spaces after it', async () => {
    const token = t.pair.access_token;
    for (const value of [`bearer ${token}`, `BEARER ${token}`, `bEaReR ${token}`, `Bearer    ${token}`, `Bearer \t ${token}`]) {
      const r = await request(`${t.s.url}${RESOURCE}`, { headers: { authorization: value } });
      expect(r.status, JSON.stringify(value)).toBe(200);
      expectOk(r);
    }
  });
});

// The verified-token cache (token-cache-size) answers repeated calls with one token without the
// signature check: expiry must hold on that path too, so the token is used before the clock moves.
describe.each([
  ['verified-token cache on', {}],
  ['verified-token cache off', { 'token-cache-size': '0' }],
])('JWT access-token expiry on the server clock, %s [sqlite]', (_name, flags) => {
  const t = rig('sqlite', flags);

  it('JW-09 a real token stays valid within the leeway after exp, and is refused as expired beyond it', async () => {
    const ttl = t.s.g.settings.accessTokenTtl;
    expect(t.pair.expires_in).toBe(ttl);
    const c = decodeSegment(t.pair.access_token, 1) as { iat: number; exp: number };
    expect(c.exp - c.iat).toBe(ttl);
    expectOk(await t.get(t.pair.access_token));
    t.clock.advance((ttl + 10) * 1000); // exp 10 s ago, leeway 30 s
    expectOk(await t.get(t.pair.access_token));
    t.clock.advance(19 * 1000); // exp 29 s ago
    expectOk(await t.get(t.pair.access_token));
    t.clock.advance(1000); // exp 30 s ago: the leeway is spent
    expectInvalidToken(await t.get(t.pair.access_token), /error_description="[^"]*expire/i);
    expectInvalidToken(await t.get(t.pair.access_token), /error_description="[^"]*expire/i);
    expectInvalidToken(await t.get(t.pair.access_token, '/auth/me'));
  });
});

describe.each(['RS256', 'EdDSA'])('JWT access tokens with signing-alg %s [sqlite]', (alg) => {
  const t = rig('sqlite', { 'signing-alg': alg });

  it('signs with the configured alg, accepts its tokens, refuses alg swaps', async () => {
    expect(decodeSegment(t.pair.access_token, 0)).toMatchObject({ alg, typ: 'at+jwt' });
    expectOk(await t.get(t.pair.access_token));
    expectOk(await t.get(await t.genuine()));
    for (const other of ['ES256', 'RS256', 'EdDSA', 'PS256', 'none'].filter((a) => a !== alg)) {
      expectInvalidToken(await t.get(withSegment(t.pair.access_token, 0, b64u(JSON.stringify(t.header({ alg: other }))))));
    }
  });

  it('JW-03 refuses HS256 keyed with our public key (PEM, indented PEM, JWK JSON, DER)', async () => {
    await expectHmacConfusionRefused(t);
  });
});

describeEachEngine('JWT access tokens (smoke)', (engine) => {
  const t = rig(engine);

  it('valid → 200 and /auth/me; alg none, foreign key and query token refused', async () => {
    expectOk(await t.get(t.pair.access_token));
    expect((await t.get(t.pair.access_token, '/auth/me')).json()).toMatchObject({ username: 'alice' });
    const none = `${b64u(JSON.stringify(t.header({ alg: 'none' })))}.${b64u(JSON.stringify(t.claims()))}.`;
    expectInvalidToken(await t.get(none));
    const attacker = await attackerKey('ES256');
    expectInvalidToken(await t.get(await forge(t.header(), t.claims(), attacker.privateKey)));
    expectInvalidRequest(await request(`${t.s.url}${RESOURCE}?access_token=${t.pair.access_token}`));
  });
});
