// Chromium through playwright-core, for the browser tests. Skipped with a warning when Chromium or
// playwright-core is missing, except in CI (.ci/run installs Chromium), where that fails the run.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

async function loadPlaywright(): Promise<typeof import('playwright-core') | string> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  try {
    return await import('playwright-core');
  } catch (err) {
    return `playwright-core cannot be loaded (${(err as Error).message})`;
  }
}

/** playwright-core, or why the browser tests of `suite` cannot run. */
export async function playwrightFor(suite: string): Promise<typeof import('playwright-core') | string> {
  const pw = await loadPlaywright();
  if (typeof pw === 'string' && process.env.CI) throw new Error(`the browser ${suite} tests are mandatory in CI: ${pw}`);
  if (typeof pw === 'string') console.warn(`\n!!! SKIPPING the browser ${suite} tests: ${pw}.\n`);
  return pw;
}

/** Chromium with the flags it needs as root in a container. */
export function launchChromium(pw: typeof import('playwright-core')): Promise<Browser> {
  return pw.chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A page whose only content is `html`, served by a throwaway server reachable at two origins. */
export interface Attacker {
  /** http://localhost:EVIL: another site than Gatehouse's 127.0.0.1. */
  crossSite: string;
  /** http://127.0.0.1:EVIL: the same site as Gatehouse (ports do not make sites), another origin. */
  sameSite: string;
  serve(html: string, origin?: string): string;
  close(): Promise<void>;
}

export async function startAttacker(): Promise<Attacker> {
  let page = '';
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const crossSite = `http://localhost:${port}`;
  let n = 0;
  return {
    crossSite,
    sameSite: `http://127.0.0.1:${port}`,
    serve: (html, origin = crossSite) => {
      page = html;
      return `${origin}/attack-${++n}`;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}


export function escapeAttr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** An HTML page that POSTs a form to `action` as soon as it loads (a classic CSRF page). */
export function autoSubmit(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escapeAttr(k)}" value="${escapeAttr(v)}">`).join('');
  return `<!doctype html><html><body><form id="f" method="POST" action="${escapeAttr(action)}">${inputs}</form><script>document.getElementById('f').submit();</script></body></html>`;
}

/** Console errors and warnings (CSP violations among them) and page errors of `p`, into `into`. */
export function watchConsole(p: Page, into: string[]): void {
  p.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warning') into.push(`${m.type()}: ${m.text()} (${p.url()})`);
  });
  p.on('pageerror', (e) => into.push(`pageerror: ${e.message}`));
}

/** PKCE (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}

const SHORT = { timeout: 10_000 };

/** Gatehouse's login page: its title, heading, labelled fields and a form posting to /oauth/authorize. */
export async function expectLoginPage(p: Page): Promise<void> {
  await p.getByRole('heading', { name: 'Sign in' }).waitFor(SHORT);
  expect(await p.title()).toBe('Sign in');
  expect(await p.getByLabel('Username').count()).toBe(1);
  expect(await p.getByLabel('Password').count()).toBe(1);
  expect(await p.locator('#username').getAttribute('type')).toBe('text');
  expect(await p.locator('#password').getAttribute('type')).toBe('password');
  expect(await p.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
  expect(await p.locator('form[method="post"][action="/oauth/authorize"]').count()).toBe(1);
}

/** Fill in and submit the login page. */
export async function fillLogin(p: Page, username: string, password: string): Promise<void> {
  await p.getByLabel('Username').fill(username);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
}
