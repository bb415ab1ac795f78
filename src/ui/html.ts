// Server-rendered pages: escaping, the shared layout, and the headers every page gets (no framing,
// no caching, a strict CSP; catalogue SS-11, RFC 6749 §10.13).
import { randomPiece } from '../crypto/random-pool.js';
import type { Reply } from '../schemes/http-auth/replies.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Hidden inputs carrying `fields` unchanged. */
export function hiddenFields(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('\n');
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#222}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.error{color:#a00}li{margin:.3rem 0}';

export interface PageOptions {
  status?: number;
  /** Extra origins forms may post to (form_post to a client). */
  formAction?: string[];
  script?: string;
  headers?: Record<string, string | string[]>;
}

/** The CSP source for where a redirect URI sends the browser: its origin, or a private-use scheme. */
export function cspSourceOf(uri: string): string {
  const u = new URL(uri);
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol;
}

export function page(title: string, body: string, options: PageOptions = {}): Reply {
  const nonce = options.script ? randomPiece(16).toString('base64url') : undefined;
  const csp = [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `form-action 'self'${(options.formAction ?? []).map((o) => ` ${o}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    ...(nonce ? [`script-src 'nonce-${nonce}'`] : []),
  ].join('; ');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
${options.script && nonce ? `<script nonce="${nonce}">${options.script}</script>` : ''}
</body></html>`;
  return {
    status: options.status ?? 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': csp,
      'x-frame-options': 'DENY',
      // Not no-referrer: with it, browsers send "Origin: null" on the page's own form posts, and the
      // same-origin check could not tell them from another site's.
      'referrer-policy': 'same-origin',
      ...(options.headers ?? {}),
    },
    body: html,
  };
}
