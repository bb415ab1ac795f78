// A tiny browser for the authorization endpoint tests: a cookie jar over raw HTTP, hidden-field
// parsing, and the login → consent → redirect walk (no redirects followed automatically).
import { request, type RawResponse } from './http.js';
import { PW } from './jwt-login.js';

export function unescapeHtml(s: string): string {
  return s.replace(/&(lt|gt|quot|#39|amp);/g, (_m, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!);
}

/** The hidden inputs of the (first) form on a page, in order, unescaped. */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) out[unescapeHtml(m[1]!)] = unescapeHtml(m[2]!);
  return out;
}

export function formAction(html: string): string | undefined {
  const m = /<form method="post" action="([^"]*)"/.exec(html);
  return m ? unescapeHtml(m[1]!) : undefined;
}

export type PageKind = 'login' | 'consent' | 'redirect' | 'form_post' | 'error' | 'other';

export function kindOf(r: RawResponse): PageKind {
  if (r.status === 303) return 'redirect';
  const f = hiddenFields(r.body);
  if (f.gatehouse_action === 'login') return 'login';
  if (f.gatehouse_action === 'consent') return 'consent';
  if (r.status === 200 && /<form method="post" action="https?:/.test(r.body)) return 'form_post';
  if (/This sign-in request cannot continue/.test(r.body)) return 'error';
  return 'other';
}

/** Set-Cookie names and values (value '' for a deletion). */
export function setCookies(r: RawResponse): Array<{ name: string; value: string; raw: string }> {
  return r.all('set-cookie').map((raw) => {
    const [pair] = raw.split(';');
    const i = pair!.indexOf('=');
    return { name: pair!.slice(0, i).trim(), value: pair!.slice(i + 1).trim(), raw };
  });
}

export class Browser {
  readonly cookies = new Map<string, string>();
  /** The Origin header sent with POSTs (the server's own by default; null: none). */
  origin: string | null;

  constructor(readonly base: string) {
    this.origin = base;
  }

  cookieHeader(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(r: RawResponse): RawResponse {
    for (const c of setCookies(r)) {
      if (c.value === '' || /max-age=0/i.test(c.raw)) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return r;
  }

  async get(url: string): Promise<RawResponse> {
    const cookie = this.cookieHeader();
    return this.keep(await request(url, { headers: cookie ? { cookie } : {} }));
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<RawResponse> {
    const cookie = this.cookieHeader();
    return this.keep(
      await request(new URL(path, this.base).href, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(cookie ? { cookie } : {}),
          ...(this.origin ? { origin: this.origin } : {}),
          ...headers,
        },
        body: new URLSearchParams(fields).toString(),
      }),
    );
  }

  /** Submit the login form on `page`. */
  login(page: RawResponse, username: string, password = PW): Promise<RawResponse> {
    return this.post(formAction(page.body) ?? '/oauth/authorize', { ...hiddenFields(page.body), username, password });
  }

  /** Submit the consent form on `page`. */
  consent(page: RawResponse, decision: 'allow' | 'deny' = 'allow'): Promise<RawResponse> {
    return this.post(formAction(page.body) ?? '/oauth/authorize', { ...hiddenFields(page.body), decision });
  }

  /** GET the authorization URL, log in if asked, allow if asked; returns every response seen. */
  async walk(url: string, username: string, o: { password?: string; decision?: 'allow' | 'deny' } = {}): Promise<{ final: RawResponse; pages: PageKind[] }> {
    const pages: PageKind[] = [];
    let r = await this.get(url);
    for (let i = 0; i < 4; i++) {
      const k = kindOf(r);
      pages.push(k);
      if (k === 'login') r = await this.login(r, username, o.password ?? PW);
      else if (k === 'consent') r = await this.consent(r, o.decision ?? 'allow');
      else break;
    }
    return { final: r, pages };
  }
}

/** The /oauth/authorize URL with `params` (pairs, so a name may repeat). */
export function authorizeUrl(base: string, params: Record<string, string> | string[][]): string {
  return `${base}/oauth/authorize?${new URLSearchParams(params).toString()}`;
}

/** The parameters of a redirect: query or fragment. */
export function redirectParams(location: string, where: 'query' | 'fragment' = 'query'): URLSearchParams {
  const u = new URL(location);
  return new URLSearchParams(where === 'query' ? u.search : u.hash.slice(1));
}
