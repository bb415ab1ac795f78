// The OAuth authorization endpoint in a real browser (Chromium through playwright-core), SQLite only:
// the authorization code flow with PKCE clicked through the server-rendered login and consent pages
// (RFC 6749 §4.1, RFC 7636, RFC 9207 `iss`), the remembered consent, Deny, a wrong password, CSRF
// refusal of the login and consent forms, no framing (RFC 6749 §10.13), and no CSP violations.
//
// Three origins:
//   Gatehouse              http://127.0.0.1:PORT
//   the client application http://127.0.0.1:APP/cb   (records the query of every callback)
//   the attacker           http://localhost:EVIL (another site) and http://127.0.0.1:EVIL (the same
//                          site, another origin: the browser still sends the SameSite=Lax session
//                          cookie with its POSTs, so only the server's own checks stand in the way)
//
// Unlike test/sessions-browser.test.ts the browser contexts keep CSP on (no bypassCSP): the pages'
// own policy (form-action, frame-ancestors) is part of what is tested.
// Skipped, with a warning, when playwright-core or /usr/bin/chromium is missing (except in CI, where that fails).
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { type Attacker, autoSubmit, escapeAttr, expectLoginPage, fillLogin, launchChromium, pkce, playwrightFor, startAttacker, watchConsole } from './support/browser.js';
import { bearer, PW } from './support/jwt-login.js';
import { clientBasic, post } from './support/oauth.js';
import { startOne, type TestServer } from './support/server.js';

const COOKIE = 'gatehouse_session';
const SHORT = { timeout: 10_000 };

const playwright = await playwrightFor('OAuth');

/** The client application: /cb records the query it receives and answers a small HTML page. */
interface ClientApp {
  origin: string;
  cbUrl: string;
  received: URLSearchParams[];
  close(): Promise<void>;
}

async function startClientApp(): Promise<ClientApp> {
  const received: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/cb') received.push(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><title>Demo App</title><h1>Back at the client</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, cbUrl: `${origin}/cb`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}




interface Flow {
  clientId: string;
  state: string;
  verifier: string;
  challenge: string;
  /** The authorization request's parameters, as the client sends them. */
  params: Record<string, string>;
}

describe.skipIf(typeof playwright === 'string')('OAuth authorization code flow in a real browser [sqlite]', () => {
  let s: TestServer;
  let app: ClientApp;
  let attacker: Attacker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let secret: string;
  const consoleErrors: string[] = [];

  function newFlow(clientId = 'web'): Flow {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const params = { client_id: clientId, redirect_uri: app.cbUrl, response_type: 'code', scope: 'api', state, code_challenge: challenge, code_challenge_method: 'S256' };
    return { clientId, state, verifier, challenge, params };
  }
  const authorizeUrl = (f: Flow) => `${s.url}/oauth/authorize?${new URLSearchParams(f.params).toString()}`;
  const sessionCookies = async (ctx: BrowserContext) => (await ctx.cookies(s.url)).filter((c) => c.name === COOKIE);


  async function newContextPage(): Promise<{ ctx: BrowserContext; p: Page; errors: string[] }> {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    const errors: string[] = [];
    watchConsole(p, errors);
    return { ctx, p, errors };
  }

  /** Wait until the browser shows the client application's callback; the query it received. */
  async function landOnClient(p: Page, errors: string[], before: number): Promise<URLSearchParams> {
    try {
      await p.waitForURL((u) => u.toString().startsWith(`${app.cbUrl}?`), SHORT);
    } catch (err) {
      throw new Error(`the browser never reached the client app (at ${p.url()}; console: ${JSON.stringify(errors)}): ${(err as Error).message}`);
    }
    expect(app.received.length).toBe(before + 1);
    const got = app.received[app.received.length - 1]!;
    expect(new URL(p.url()).searchParams.toString()).toBe(got.toString());
    return got;
  }

  function exchange(code: string, f: Flow, clientSecret = secret) {
    return post(
      `${s.url}/oauth/token`,
      { grant_type: 'authorization_code', code, redirect_uri: app.cbUrl, code_verifier: f.verifier },
      { authorization: clientBasic(f.clientId, clientSecret) },
    );
  }


  const signIn = (p: Page, password = PW) => fillLogin(p, 'alice', password);

  beforeAll(async () => {
    if (typeof playwright === 'string') return;
    s = await startOne('sqlite', { flags: { ...FAST_ARGON2 } });
    await s.addUser('alice', PW);
    app = await startClientApp();
    attacker = await startAttacker();
    const web = await s.g.clients.create({ clientId: 'web', name: 'Demo App', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [app.cbUrl] });
    await s.g.clients.create({ clientId: 'web2', name: 'Other App', grantTypes: ['authorization_code', 'refresh_token'], redirectUris: [app.cbUrl] });
    await s.g.clients.create({ clientId: 'web3', name: 'Third App', grantTypes: ['authorization_code'], redirectUris: [app.cbUrl] });
    secret = web.secret!;
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

  it('login → consent → Allow: the client app receives code, state and iss; the code redeems (PKCE) for tokens that work', async () => {
    const f = newFlow();
    const before = app.received.length;
    const first = await page.goto(authorizeUrl(f));
    expect(first!.status()).toBe(200);
    expect(first!.headers()['x-frame-options']).toBe('DENY');
    expect(first!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expectLoginPage(page);
    expect(await sessionCookies(context)).toEqual([]);

    await signIn(page);
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor(SHORT);
    const consent = await page.locator('body').innerText();
    expect(consent).toContain('Demo App');
    expect(consent).toContain('Call the demo API as you');
    expect(consent).toContain('alice');
    expect(await page.getByRole('button', { name: 'Allow' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Deny' }).count()).toBe(1);
    const cookies = await sessionCookies(context);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(app.received.length).toBe(before); // nothing reached the client before Allow

    await page.getByRole('button', { name: 'Allow' }).click();
    const got = await landOnClient(page, consoleErrors, before);
    expect(got.get('code')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(got.get('state')).toBe(f.state);
    expect(got.get('iss')).toBe(s.g.settings.issuer);
    expect(got.get('error')).toBeNull();
    expect(await page.getByRole('heading', { name: 'Back at the client' }).count()).toBe(1);

    const token = await exchange(got.get('code')!, f);
    expect(token.status, token.body).toBe(200);
    const body = token.json();
    expect(body).toMatchObject({ token_type: expect.stringMatching(/^bearer$/i), scope: 'api' });
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.refresh_token).toBe('string');

    const resource = await bearer(`${s.url}/api/oauth/resources`, body.access_token);
    expect(resource.status, resource.body).toBe(200);
    expect(resource.json()).toMatchObject({ scheme: 'Bearer', client_id: 'web', scope: 'api' });

    // The code is single use.
    expect((await exchange(got.get('code')!, f)).status).toBe(400);
  });

  it('a repeat visit in the same browser: no login, no consent, straight to the client with a fresh code', async () => {
    const f = newFlow();
    const before = app.received.length;
    const previous = app.received[before - 1]?.get('code');
    const seen: string[] = [];
    const onResponse = (r: import('playwright-core').Response) => seen.push(`${r.status()} ${r.url()}`);
    page.on('response', onResponse);
    try {
      const landed = await page.goto(authorizeUrl(f));
      expect(landed!.url().startsWith(`${app.cbUrl}?`)).toBe(true);
      const hop = landed!.request().redirectedFrom();
      expect(hop?.url()).toBe(authorizeUrl(f));
      expect((await hop!.response())!.status()).toBe(303);
    } finally {
      page.off('response', onResponse);
    }
    // Exactly two responses: the 303 and the client's page (no login page, no consent page).
    expect(seen, seen.join('\n')).toHaveLength(2);
    expect(await page.title()).toBe('Demo App');
    expect(app.received.length).toBe(before + 1);
    const got = app.received[before]!;
    expect(got.get('code')).toBeTruthy();
    expect(got.get('code')).not.toBe(previous);
    expect(got.get('state')).toBe(f.state);
    expect(got.get('iss')).toBe(s.g.settings.issuer);

    const token = await exchange(got.get('code')!, f);
    expect(token.status, token.body).toBe(200);
    expect(token.json().access_token).toBeTruthy();
  });

  it('a second client → consent (no login: the session is shared) → Deny: error=access_denied with state and iss, no code', async () => {
    const f = newFlow('web2');
    const before = app.received.length;
    await page.goto(authorizeUrl(f));
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor(SHORT);
    expect(await page.locator('body').innerText()).toContain('Other App');
    await page.getByRole('button', { name: 'Deny' }).click();
    const got = await landOnClient(page, consoleErrors, before);
    expect(got.get('error')).toBe('access_denied');
    expect(got.get('state')).toBe(f.state);
    expect(got.get('iss')).toBe(s.g.settings.issuer);
    expect(got.get('code')).toBeNull();

    // Denied is not remembered as allowed: the next visit asks again.
    await page.goto(authorizeUrl(newFlow('web2')));
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor(SHORT);
    expect(app.received.length).toBe(before + 1);
  });

  it('a wrong password: the login page again with an alert, status 400, and no session cookie', async () => {
    const { ctx, p } = await newContextPage();
    try {
      const before = app.received.length;
      await p.goto(authorizeUrl(newFlow('web2'))); // web2: alice has not allowed it, so the consent page follows login
      await expectLoginPage(p);
      const answered = p.waitForResponse((r) => r.url() === `${s.url}/oauth/authorize` && r.request().method() === 'POST');
      await signIn(p, 'not the password');
      expect((await answered).status()).toBe(400);
      await p.getByRole('alert').waitFor(SHORT);
      expect(await p.getByRole('alert').innerText()).toMatch(/username or password is incorrect/i);
      await expectLoginPage(p);
      expect(await sessionCookies(ctx)).toEqual([]);
      expect(app.received.length).toBe(before);

      // And the form still works afterwards with the right password (a fresh CSRF token came with it).
      await signIn(p);
      await p.getByRole('heading', { name: 'Allow access?' }).waitFor(SHORT);
      expect(await sessionCookies(ctx)).toHaveLength(1);
    } finally {
      await ctx.close();
    }
  });

  describe('CSRF: forms posted by another origin are refused', () => {
    /** Open an attacker page that auto-submits `fields` to /oauth/authorize; the POST's response. */
    async function runForm(origin: string, fields: Record<string, string>) {
      const target = `${s.url}/oauth/authorize`;
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
          body: await response.text().catch(() => ''),
        };
      } finally {
        await attack.close();
      }
    }

    /** A consent form for a client alice has not allowed yet (web2 was denied above). */
    function consentFields(): Record<string, string> {
      return { ...newFlow('web2').params, gatehouse_action: 'consent', decision: 'allow', csrf_token: randomBytes(32).toString('base64url') };
    }

    it('consent (decision=allow, guessed csrf_token) from the same site, another origin (the session cookie is sent) → 403, no code', async () => {
      const before = app.received.length;
      const session = (await sessionCookies(context))[0]!.value;
      const attempt = await runForm(attacker.sameSite, consentFields());
      expect(attempt.requestHeaders.origin).toBe(attacker.sameSite);
      expect(attempt.requestHeaders.cookie ?? '').toContain(`${COOKIE}=${session}`); // the server did get the session
      expect(attempt.status).toBe(403);
      expect(attempt.location).toBeNull();
      expect(attempt.body).not.toContain('code=');
      expect(app.received.length).toBe(before);
      const alice = (await s.g.accounts.find('alice'))!;
      expect(await s.g.store.consents.find(alice.id, 'web2')).toBeUndefined();
    });

    it('login from another site or another origin → 403, no new session cookie; alice keeps her session', async () => {
      const before = (await sessionCookies(context)).map((c) => c.value);
      expect(before).toHaveLength(1);
      const fields = { ...newFlow().params, gatehouse_action: 'login', csrf_token: 'guessed', username: 'alice', password: PW };
      for (const origin of [attacker.crossSite, attacker.sameSite]) {
        const attempt = await runForm(origin, fields);
        expect(attempt.requestHeaders.origin).toBe(origin);
        expect(attempt.status).toBe(403);
        expect(attempt.setCookie).toBeNull();
      }
      expect((await sessionCookies(context)).map((c) => c.value)).toEqual(before);
    });

    // Another site: the browser withholds the SameSite=Lax session cookie from the POST, so the server
    // sees no session. It must still refuse (403), and above all must not answer with a Set-Cookie that
    // clears alice's session cookie (which the browser applies: a top-level navigation), i.e. logout CSRF.
    it('consent (decision=allow, guessed csrf_token) from another site → 403, no code, and alice keeps her session', async () => {
      const before = app.received.length;
      const session = (await sessionCookies(context)).map((c) => c.value);
      expect(session).toHaveLength(1);
      const attempt = await runForm(attacker.crossSite, consentFields());
      expect(attempt.requestHeaders.origin).toBe(attacker.crossSite);
      expect(attempt.requestHeaders.cookie ?? '').not.toContain(`${COOKIE}=`); // SameSite=Lax at work
      expect(attempt.location).toBeNull();
      expect(app.received.length).toBe(before);
      expect.soft(attempt.setCookie ?? '', 'the response clears the session cookie').not.toMatch(new RegExp(`(^|\\n)${COOKIE}=;`));
      expect.soft((await sessionCookies(context)).map((c) => c.value), 'alice was logged out by another site').toEqual(session);
      expect.soft(attempt.status).toBe(403);
    });
  });

  it('the pages cannot be framed: X-Frame-Options DENY, frame-ancestors none, and the frame shows no login form', async () => {
    const { ctx, p } = await newContextPage();
    try {
      for (const origin of [attacker.crossSite, attacker.sameSite]) {
        const src = authorizeUrl(newFlow());
        const answered = p.waitForResponse((r) => r.url() === src, SHORT);
        await p.goto(attacker.serve(`<!doctype html><title>innocent</title><iframe id="f" src="${escapeAttr(src)}" width="600" height="400"></iframe>`, origin));
        const response = await answered;
        expect(response.status()).toBe(200);
        expect(response.headers()['x-frame-options']).toBe('DENY');
        expect(response.headers()['content-security-policy']).toMatch(/(^|;\s*)frame-ancestors 'none'(;|$)/);
        await p.waitForLoadState('load');
        const frame = p.frames().find((fr) => fr !== p.mainFrame());
        expect(frame, 'the iframe exists').toBeTruthy();
        // Chromium replaces a refused frame with its error page.
        await expect.poll(() => frame!.url(), SHORT).toMatch(/^(about:blank|chrome-error:)/);
        expect(await frame!.locator('#password').count()).toBe(0);
        expect(await frame!.getByRole('button', { name: 'Sign in' }).count()).toBe(0);
      }
    } finally {
      await ctx.close();
    }
  });

  it('used normally, the login and consent pages cause no console errors or CSP violations', async () => {
    const { ctx, p, errors } = await newContextPage();
    try {
      const before = app.received.length;
      await p.goto(authorizeUrl(newFlow('web3'))); // a client alice has never seen: login, consent, redirect
      await expectLoginPage(p);
      await p.getByLabel('Username').click();
      await signIn(p);
      await p.getByRole('heading', { name: 'Allow access?' }).waitFor(SHORT);
      await p.getByRole('button', { name: 'Allow' }).click();
      const got = await landOnClient(p, errors, before);
      expect(got.get('code')).toBeTruthy();
      expect(errors).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
