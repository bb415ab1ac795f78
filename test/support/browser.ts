// Chromium through playwright-core, for the browser tests. Skipped with a warning when Chromium or
// playwright-core is missing, except in CI (.ci/run installs Chromium), where that fails the run.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';

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
