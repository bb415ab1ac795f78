// Cross-site request refusal for cookie-authenticated endpoints (OWASP CSRF cheat sheet: verify the
// origin with standard headers; catalogue SS-08, SS-09). Browsers send Origin with every cross-site
// POST and Sec-Fetch-Site with every request; a request with neither did not come from another
// site's page.
export interface OriginHeaders {
  origin: string | undefined;
  secFetchSite: string | undefined;
  /** This server's own origin as the request reached it, e.g. http://127.0.0.1:3000. */
  ownOrigin: string;
}

export function isSameOrigin(h: OriginHeaders): boolean {
  // "null": an opaque origin (a sandboxed frame, a data: page) or a page whose referrer policy hides
  // it; only Sec-Fetch-Site can then say the request is our own.
  if (h.origin === 'null') return h.secFetchSite === 'same-origin';
  if (h.origin !== undefined) return h.origin === h.ownOrigin;
  if (h.secFetchSite !== undefined) return h.secFetchSite === 'same-origin' || h.secFetchSite === 'none';
  return true;
}
