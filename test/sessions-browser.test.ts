// Cookie sessions in a real browser (Chromium through playwright-core), SQLite only: catalogue §4.9
// SS-02 (the browser stores the cookie HttpOnly and SameSite=Lax, scripts cannot read it), SS-04
// (logout), SS-08/SS-09 (another site's page cannot log the user out or log them in as someone else).
// Gatehouse is at http://127.0.0.1:PORT; the attacker's page is served by a plain node:http server at
// http://localhost:OTHER, a different origin and a different site.
//
// Every Gatehouse response carries `Content-Security-Policy: default-src 'none'`, which would also stop
// the test page's own fetch() calls (connect-src), so the browser context is opened with bypassCSP.
// Skipped, with a warning, when playwright-core or /usr/bin/chromium is missing (except in CI, where that fails).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_ARGON2 } from './support/basic-extra.js';
import { type Attacker, autoSubmit, launchChromium, playwrightFor, startAttacker } from './support/browser.js';
import { PW } from './support/jwt-login.js';
import { startOne, type TestServer } from './support/server.js';

const COOKIE = 'gatehouse_session';

const playwright = await playwrightFor('session');



interface FetchResult {
  status: number;
  json: any;
}

/** fetch() run inside the page, with the page's origin and cookies. */
function pageFetch(page: Page, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<FetchResult> {
  return page.evaluate(
    async ({ path, init }) => {
      const r = await fetch(path, init);
      const text = await r.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: r.status, json };
    },
    { path, init },
  );
}

describe.skipIf(typeof playwright === 'string')('cookie sessions in a real browser [sqlite]', () => {
  let s: TestServer;
  let attacker: Attacker;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let csrf: string;

  const sessionCookies = async () => (await context.cookies(s.url)).filter((c) => c.name === COOKIE);
  const whoAmI = () => pageFetch(page, '/api/session/resources');

  /** Open the attacker's page (an auto-submitting form) and wait for the browser's POST to Gatehouse. */
  async function runCrossSiteForm(path: string, fields: Record<string, string>) {
    const target = `${s.url}${path}`;
    const attack = await context.newPage();
    try {
      const answered = attack.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
      await attack.goto(attacker.serve(autoSubmit(target, fields)));
      const response = await answered;
      return { status: response.status(), headers: await response.request().allHeaders(), setCookie: await response.headerValue('set-cookie') };
    } finally {
      await attack.close();
    }
  }

  beforeAll(async () => {
    if (typeof playwright === 'string') return;
    s = await startOne('sqlite', { flags: { ...FAST_ARGON2 } });
    await s.addUser('alice', PW);
    await s.addUser('mallory', PW);
    attacker = await startAttacker();
    browser = await launchChromium(playwright);
    context = await browser.newContext({ bypassCSP: true });
    page = await context.newPage();
    await page.goto(`${s.url}/api/public`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await attacker?.close();
    await s?.close();
  });

  it('SS-02: fetch() login from the page → the resource answers with the user; the jar holds an HttpOnly, SameSite=Lax cookie', async () => {
    const login = await pageFetch(page, '/session/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: PW }) });
    expect(login.status, JSON.stringify(login.json)).toBe(200);
    expect(login.json.user.username).toBe('alice');
    csrf = login.json.csrf_token;

    const me = await whoAmI();
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ scheme: 'Session', user: { username: 'alice' }, csrf_token: csrf });

    const cookies = await sessionCookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: COOKIE, httpOnly: true, sameSite: 'Lax', secure: false, path: '/', domain: '127.0.0.1' });
    expect(cookies[0]!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('SS-02: document.cookie does not show the session cookie (HttpOnly)', async () => {
    const visible = await page.evaluate(() => document.cookie);
    expect(visible).not.toContain(COOKIE);
    expect(visible).not.toContain((await sessionCookies())[0]!.value);
  });

  /** A form another site's page submits: refused (403, no cookie), and alice's session untouched. */
  async function expectCrossSiteFormRefused(path: string, fields: Record<string, string>): Promise<void> {
    const before = (await sessionCookies())[0]!.value;
    const attempt = await runCrossSiteForm(path, fields);
    expect(attempt.headers.origin).toBe(attacker.crossSite); // the browser says where the POST came from
    expect(attempt.status).toBe(403);
    expect(attempt.setCookie).toBeNull();
    expect((await sessionCookies()).map((c) => c.value)).toEqual([before]);
    const me = await whoAmI();
    expect(me.status).toBe(200);
    expect(me.json.user.username).toBe('alice');
  }

  it('SS-08/SS-09: an auto-submitting form on another site cannot log the user out', async () => {
    await expectCrossSiteFormRefused('/session/logout', { csrf_token: 'guessed' });
  });

  it('SS-09: a no-cors fetch (CORS-safelisted, text/plain) from another site cannot log the user out', async () => {
    const attack = await context.newPage();
    try {
      await attack.goto(attacker.serve('<!doctype html><title>innocent</title>'));
      const target = `${s.url}/session/logout`;
      const answered = attack.waitForResponse((r) => r.url() === target);
      await attack.evaluate(async (url) => {
        await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: 'csrf_token=guessed' }).catch(() => undefined);
      }, target);
      const response = await answered;
      expect(response.status()).toBe(403);
    } finally {
      await attack.close();
    }
    expect((await whoAmI()).status).toBe(200);
  });

  it('SS-08: an auto-submitting form on another site cannot log the user in as the attacker (login CSRF)', async () => {
    await expectCrossSiteFormRefused('/session/login', { username: 'mallory', password: PW });
  });

  it('SS-04: logout by fetch() with X-CSRF-Token ends the session and clears the cookie', async () => {
    const out = await pageFetch(page, '/session/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } });
    expect(out.status, JSON.stringify(out.json)).toBe(200);
    expect(await sessionCookies()).toEqual([]);
    const me = await whoAmI();
    expect(me.status).toBe(401);
    expect(me.json).toMatchObject({ error: 'unauthorized' });
  });
});
