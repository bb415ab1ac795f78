// OpenID Connect in a real browser (Chromium through playwright-core), SQLite only: login, consent and
// logout clicked through the server-rendered pages.
//
//  - Login and consent for a confidential client asking `openid profile email` with a nonce, state and
//    PKCE S256 (OIDC Core §3.1): the consent page lists the three OIDC scopes; Allow brings the browser
//    to the client with code, state and iss (RFC 9207). The code redeems (client_secret_basic) for an
//    ID token that verifies against the published JWKS (iss, aud, azp, nonce, sid, typ JWT, sub = the
//    user's id) and an access token that UserInfo (OIDC Core §5.3) answers with name,
//    preferred_username, email and email_verified.
//  - prompt=none in the same browser: a code with no page shown (consent remembered, same sid).
//  - RP-Initiated Logout 1.0 with id_token_hint, post_logout_redirect_uri and state: the confirmation
//    page ("Sign out?"), the Sign out button, the redirect to /bye?state=…, the session cookie gone,
//    prompt=none now login_required, and Back-Channel Logout 1.0: exactly one POST to the client's
//    backchannel_logout_uri whose logout_token verifies (typ logout+jwt, events, no nonce) and names
//    the ID token's sid and sub.
//  - No forced logout: a POST with gatehouse_action=logout from an attacker page (another site, and the
//    same site on another origin, which does carry the SameSite=Lax cookie) is a 403 and the user stays
//    signed in; a GET of /oidc/logout from a link (even with gatehouse_action in the query) only shows
//    the confirmation page; "Stay signed in" keeps the session.
//  - No console errors or CSP violations on Gatehouse's pages (CSP stays on: no bypassCSP).
//
// Three origins, as in test/oauth-browser.test.ts:
//   Gatehouse              http://127.0.0.1:PORT
//   the client application http://127.0.0.1:APP   (/cb, /bye record their query; /backchannel records POSTs)
//   the attacker           http://localhost:EVIL (another site) and http://127.0.0.1:EVIL (same site, another origin)
//
// Skipped, with a warning, when playwright-core or /usr/bin/chromium is missing (except in CI, where that fails).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { type Attacker, autoSubmit, escapeAttr, expectLoginPage, fillLogin, launchChromium, pkce, playwrightFor, startAttacker, watchConsole } from './support/browser.js';
import { bearer, PW } from './support/jwt-login.js';
import { clientBasic, post } from './support/oauth.js';
import { startOne, type TestServer } from './support/server.js';

const COOKIE = 'gatehouse_session';
const SHORT = { timeout: 10_000 };
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const USER = { username: 'alice', email: 'alice@example.com', displayName: 'Alice Liddell' };

const playwright = await playwrightFor('OIDC');

/** A back-channel logout request as the client application received it. */
interface BackchannelPost {
  method: string;
  contentType: string | undefined;
  body: string;
}

/** The client application: /cb and /bye record their query, /backchannel records what is POSTed to it. */
interface ClientApp {
  origin: string;
  cbUrl: string;
  byeUrl: string;
  backchannelUrl: string;
  callbacks: URLSearchParams[];
  byes: URLSearchParams[];
  backchannel: BackchannelPost[];
  close(): Promise<void>;
}

async function startClientApp(): Promise<ClientApp> {
  const callbacks: URLSearchParams[] = [];
  const byes: URLSearchParams[] = [];
  const backchannel: BackchannelPost[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/backchannel') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        backchannel.push({ method: req.method ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'cache-control': 'no-store' });
        res.end();
      });
      return;
    }
    if (url.pathname === '/cb') callbacks.push(url.searchParams);
    if (url.pathname === '/bye') byes.push(url.searchParams);
    const heading = url.pathname === '/bye' ? 'Signed out of the client' : 'Back at the client';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`<!doctype html><title>Demo RP</title><h1>${heading}</h1>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    cbUrl: `${origin}/cb`,
    byeUrl: `${origin}/bye`,
    backchannelUrl: `${origin}/backchannel`,
    callbacks,
    byes,
    backchannel,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}




interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  params: Record<string, string>;
}

describe.skipIf(typeof playwright === 'string')('OpenID Connect login, consent and logout in a real browser [sqlite]', () => {
  let s: TestServer;
  let app: ClientApp;
  let attacker: Attacker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let secret: string;
  let userId: string;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  /** Console errors and warnings of every page that showed Gatehouse's pages to the user. */
  const consoleErrors: string[] = [];
  /** The ID token of the first login (used as id_token_hint for the logout) and its claims. */
  let firstIdToken = '';
  let firstClaims: JWTPayload = {};

  function newFlow(extra: Record<string, string> = {}): Flow {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const nonce = randomBytes(12).toString('base64url');
    const params = {
      client_id: 'rp',
      redirect_uri: app.cbUrl,
      response_type: 'code',
      scope: 'openid profile email',
      nonce,
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    };
    return { state, nonce, verifier, params };
  }
  const authorizeUrl = (f: Flow) => `${s.url}/oauth/authorize?${new URLSearchParams(f.params).toString()}`;
  const sessionCookies = async (ctx: BrowserContext) => (await ctx.cookies(s.url)).filter((c) => c.name === COOKIE);


  /** Wait until the browser shows `url` with a query; the query the client application recorded there. */
  async function landOn(p: Page, url: string, recorded: URLSearchParams[], before: number): Promise<URLSearchParams> {
    try {
      await p.waitForURL((u) => u.toString().startsWith(`${url}?`), SHORT);
    } catch (err) {
      throw new Error(`the browser never reached ${url} (at ${p.url()}; console: ${JSON.stringify(consoleErrors)}): ${(err as Error).message}`);
    }
    expect(recorded.length).toBe(before + 1);
    const got = recorded[recorded.length - 1]!;
    expect(new URL(p.url()).searchParams.toString()).toBe(got.toString());
    return got;
  }

  function exchange(code: string, f: Flow) {
    return post(`${s.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: app.cbUrl, code_verifier: f.verifier }, { authorization: clientBasic('rp', secret) });
  }

  /** Redeem a code; the token response and the ID token's verified claims (JWKS, iss, aud, typ JWT, nonce). */
  async function redeem(code: string, f: Flow): Promise<{ body: Record<string, string>; claims: JWTPayload }> {
    const token = await exchange(code, f);
    expect(token.status, token.body).toBe(200);
    const body = token.json() as Record<string, string>;
    expect(typeof body.id_token).toBe('string');
    const { payload, protectedHeader } = await jwtVerify(body.id_token!, jwks, { issuer: s.g.settings.issuer, audience: 'rp', typ: 'JWT' });
    expect(protectedHeader.typ).toBe('JWT');
    expect(payload.nonce).toBe(f.nonce);
    expect(payload.sub).toBe(userId);
    expect(payload.azp).toBe('rp');
    expect(typeof payload.sid).toBe('string');
    expect((payload.sid as string).length).toBeGreaterThan(0);
    return { body, claims: payload };
  }

  /** A prompt=none authorization request in `p`: the callback's query (a code, or an error). */
  async function silentAuthorize(p: Page): Promise<{ flow: Flow; got: URLSearchParams }> {
    const flow = newFlow({ prompt: 'none' });
    const before = app.callbacks.length;
    await p.goto(authorizeUrl(flow));
    const got = await landOn(p, app.cbUrl, app.callbacks, before);
    expect(got.get('state')).toBe(flow.state);
    expect(got.get('iss')).toBe(s.g.settings.issuer);
    return { flow, got };
  }


  const signIn = (p: Page) => fillLogin(p, USER.username, PW);

  /** Sign in from scratch in `p` (consent already given): the code's tokens and ID token claims. */
  async function freshLogin(p: Page): Promise<{ body: Record<string, string>; claims: JWTPayload }> {
    const f = newFlow();
    const before = app.callbacks.length;
    await p.goto(authorizeUrl(f));
    await expectLoginPage(p);
    await signIn(p);
    const got = await landOn(p, app.cbUrl, app.callbacks, before);
    expect(got.get('state')).toBe(f.state);
    expect(got.get('code')).toBeTruthy();
    return redeem(got.get('code')!, f);
  }

  beforeAll(async () => {
    if (typeof playwright === 'string') return;
    s = await startOne('sqlite', { flags: { ...FAST_ARGON2 } });
    app = await startClientApp();
    attacker = await startAttacker();
    userId = (await s.g.accounts.create({ username: USER.username, password: PW, email: USER.email, emailVerified: true, displayName: USER.displayName })).id;
    const rp = await s.g.clients.create({
      clientId: 'rp',
      name: 'Demo RP',
      grantTypes: ['authorization_code', 'refresh_token'],
      redirectUris: [app.cbUrl],
      postLogoutRedirectUris: [app.byeUrl],
      backchannelLogoutUri: app.backchannelUrl,
      requireConsent: true,
    });
    secret = rp.secret!;
    jwks = createRemoteJWKSet(new URL(`${s.url}/.well-known/jwks.json`));
    browser = await launchChromium(playwright);
    context = await browser.newContext();
    page = await context.newPage();
    watchConsole(page, consoleErrors);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await attacker?.close();
    await app?.close();
    await s?.close();
  });

  it('login → consent (openid, profile, email) → Allow: code, state and iss; the ID token verifies and UserInfo answers the claims', async () => {
    const f = newFlow();
    const before = app.callbacks.length;
    const first = await page.goto(authorizeUrl(f));
    expect(first!.status()).toBe(200);
    expect(first!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expectLoginPage(page);
    expect(await sessionCookies(context)).toEqual([]);

    await signIn(page);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor(SHORT);
    const consent = await page.locator('body').innerText();
    expect(consent).toContain('Demo RP');
    expect(consent).toContain(USER.username);
    const items = (await page.locator('li').allInnerTexts()).map((t) => t.trim());
    expect(items).toHaveLength(3);
    expect(items.find((t) => t.includes('(openid)'))).toContain('Sign you in to this application');
    expect(items.find((t) => t.includes('(profile)'))).toContain('See your name and username');
    expect(items.find((t) => t.includes('(email)'))).toContain('See your email address');
    expect(await sessionCookies(context)).toHaveLength(1);
    expect(app.callbacks.length).toBe(before); // nothing reached the client before Allow

    await page.getByRole('button', { name: 'Allow' }).click();
    const got = await landOn(page, app.cbUrl, app.callbacks, before);
    expect(got.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(got.get('state')).toBe(f.state);
    expect(got.get('iss')).toBe(s.g.settings.issuer);
    expect(got.get('error')).toBeNull();

    const { body, claims } = await redeem(got.get('code')!, f);
    expect(body.scope?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);
    firstIdToken = body.id_token!;
    firstClaims = claims;

    const info = await bearer(`${s.url}/oidc/userinfo`, body.access_token!);
    expect(info.status, info.body).toBe(200);
    expect(info.json()).toMatchObject({
      sub: userId,
      name: USER.displayName,
      preferred_username: USER.username,
      email: USER.email,
      email_verified: true,
    });
  });

  it('prompt=none in the same browser: a code with no page shown (consent remembered), same sid, the new nonce', async () => {
    const seen: string[] = [];
    const onResponse = (r: import('playwright-core').Response) => seen.push(`${r.status()} ${r.url()}`);
    page.on('response', onResponse);
    let result: Awaited<ReturnType<typeof silentAuthorize>>;
    try {
      result = await silentAuthorize(page);
    } finally {
      page.off('response', onResponse);
    }
    // Exactly two responses: Gatehouse's 303 and the client's page (no login page, no consent page).
    expect(seen, seen.join('\n')).toHaveLength(2);
    expect(seen[0]).toMatch(/^303 /);
    expect(await page.title()).toBe('Demo RP');
    expect(result.got.get('error')).toBeNull();
    expect(result.got.get('code')).toBeTruthy();
    const { claims } = await redeem(result.got.get('code')!, result.flow);
    expect(claims.sid).toBe(firstClaims.sid);
  });

  it('RP-initiated logout: confirmation page → Sign out → /bye?state=xyz; the cookie is gone, prompt=none is login_required, one back-channel logout token for the sid', async () => {
    expect(firstIdToken).not.toBe('');
    expect(app.backchannel).toEqual([]);
    const logoutUrl = `${s.url}/oidc/logout?${new URLSearchParams({ id_token_hint: firstIdToken, post_logout_redirect_uri: app.byeUrl, state: 'xyz' }).toString()}`;
    const shown = await page.goto(logoutUrl);
    expect(shown!.status()).toBe(200);
    expect(shown!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor(SHORT);
    expect(await page.title()).toBe('Sign out?');
    expect(await page.locator('body').innerText()).toContain(USER.username);
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Stay signed in' }).count()).toBe(1);
    // Showing the page ends nothing.
    expect(await sessionCookies(context)).toHaveLength(1);
    expect(app.backchannel).toEqual([]);

    const before = app.byes.length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    const got = await landOn(page, app.byeUrl, app.byes, before);
    expect([...got.entries()]).toEqual([['state', 'xyz']]);
    expect(await page.getByRole('heading', { name: 'Signed out of the client' }).count()).toBe(1);

    expect(await sessionCookies(context)).toEqual([]);

    // Back-Channel Logout 1.0 §2.5: one POST, a form with logout_token.
    await expect.poll(() => app.backchannel.length, SHORT).toBeGreaterThanOrEqual(1);
    expect(app.backchannel).toHaveLength(1);
    const delivery = app.backchannel[0]!;
    expect(delivery.method).toBe('POST');
    expect(delivery.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(delivery.body);
    expect([...form.keys()]).toEqual(['logout_token']);
    const { payload, protectedHeader } = await jwtVerify(form.get('logout_token')!, jwks, { issuer: s.g.settings.issuer, audience: 'rp', typ: 'logout+jwt' });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.sid).toBe(firstClaims.sid);
    expect(payload.sub).toBe(userId);
    expect(typeof payload.jti).toBe('string');
    expect(payload.events).toEqual({ [BACKCHANNEL_EVENT]: {} });
    expect(payload.nonce).toBeUndefined(); // §2.4: a logout token MUST NOT contain nonce

    // Signed out: prompt=none cannot sign in silently.
    const silent = await silentAuthorize(page);
    expect(silent.got.get('error')).toBe('login_required');
    expect(silent.got.get('code')).toBeNull();
    expect(app.backchannel).toHaveLength(1);
  });

  describe('a logout is never forced on the user', () => {
    let session: string[] = [];
    let sid: unknown;

    /** Open an attacker page on `origin` that auto-submits `fields` to /oidc/logout; the POST's response. */
    async function runForm(origin: string, fields: Record<string, string>) {
      const target = `${s.url}/oidc/logout`;
      const attack = await context.newPage();
      try {
        const answered = attack.waitForResponse((r) => r.url() === target && r.request().method() === 'POST', SHORT);
        await attack.goto(attacker.serve(autoSubmit(target, fields), origin));
        const response = await answered;
        return {
          status: response.status(),
          location: await response.headerValue('location'),
          setCookie: await response.headerValue('set-cookie'),
          requestHeaders: await response.request().allHeaders(),
        };
      } finally {
        await attack.close();
      }
    }

    async function expectStillSignedIn(): Promise<void> {
      expect((await sessionCookies(context)).map((c) => c.value)).toEqual(session);
      const { flow, got } = await silentAuthorize(page);
      expect(got.get('error')).toBeNull();
      expect(got.get('code')).toBeTruthy();
      const { claims } = await redeem(got.get('code')!, flow);
      expect(claims.sid).toBe(sid);
    }

    beforeAll(async () => {
      if (typeof playwright === 'string') return;
      const { claims } = await freshLogin(page);
      sid = claims.sid;
      session = (await sessionCookies(context)).map((c) => c.value);
    }, 60_000);

    it('the new login is a new session: a new sid, and the consent is still remembered', async () => {
      expect(session).toHaveLength(1);
      expect(sid).toBeTruthy();
      expect(sid).not.toBe(firstClaims.sid);
    });

    it('an attacker page POSTs gatehouse_action=logout to /oidc/logout (another site; same site, another origin) → 403, and the user stays signed in', async () => {
      const backchannelBefore = app.backchannel.length;
      const attempts: Record<string, string>[] = [{ gatehouse_action: 'logout' }, { gatehouse_action: 'logout', csrf_token: randomBytes(32).toString('base64url') }];
      for (const fields of attempts) {
        for (const origin of [attacker.crossSite, attacker.sameSite]) {
          const attempt = await runForm(origin, fields);
          expect(attempt.requestHeaders.origin).toBe(origin);
          if (origin === attacker.sameSite) expect(attempt.requestHeaders.cookie ?? '').toContain(`${COOKIE}=${session[0]}`); // the server did get the session
          expect(attempt.status, `${origin} ${JSON.stringify(fields)}`).toBe(403);
          expect(attempt.location).toBeNull();
          expect(attempt.setCookie).toBeNull();
          expect((await sessionCookies(context)).map((c) => c.value)).toEqual(session);
        }
      }
      expect(app.backchannel.length).toBe(backchannelBefore);
      await expectStillSignedIn();
    });

    it('a GET of /oidc/logout from a link (even with gatehouse_action=logout in the query) only shows the confirmation page', async () => {
      const backchannelBefore = app.backchannel.length;
      for (const query of ['', `?${new URLSearchParams({ gatehouse_action: 'logout', csrf_token: 'guessed' }).toString()}`]) {
        const href = `${s.url}/oidc/logout${query}`;
        const attack = await context.newPage();
        watchConsole(attack, consoleErrors);
        try {
          await attack.goto(attacker.serve(`<!doctype html><title>innocent</title><a id="go" href="${escapeAttr(href)}">win a prize</a>`, attacker.crossSite));
          const answered = attack.waitForResponse((r) => r.url() === href, SHORT);
          await attack.locator('#go').click();
          const response = await answered;
          expect(response.status()).toBe(200);
          expect(response.request().method()).toBe('GET');
          expect(await response.headerValue('set-cookie')).toBeNull();
          await attack.getByRole('heading', { name: 'Sign out?' }).waitFor(SHORT);
          expect(await attack.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
        } finally {
          await attack.close();
        }
        expect((await sessionCookies(context)).map((c) => c.value)).toEqual(session);
      }
      expect(app.backchannel.length).toBe(backchannelBefore);
      await expectStillSignedIn();
    });

    it('on the confirmation page, "Stay signed in" keeps the session', async () => {
      const backchannelBefore = app.backchannel.length;
      await page.goto(`${s.url}/oidc/logout`);
      await page.getByRole('heading', { name: 'Sign out?' }).waitFor(SHORT);
      await page.getByRole('button', { name: 'Stay signed in' }).click();
      await page.getByRole('heading', { name: 'Still signed in' }).waitFor(SHORT);
      expect(app.backchannel.length).toBe(backchannelBefore);
      await expectStillSignedIn();
    });
  });

  it('no console errors or CSP violations on any Gatehouse page the user saw (login, consent, logout confirmation)', () => {
    expect(consoleErrors).toEqual([]);
  });
});
