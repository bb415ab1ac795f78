// Scopes and the resources they grant (GATEHOUSE_SCOPES: "name" or "name@audience", comma-separated;
// a scope without an audience grants the default resource, GATEHOUSE_ACCESS_TOKEN_AUDIENCE). The demo
// scope `api` grants the demo resource, /api/oauth/resources. The OpenID Connect scopes (openid,
// profile, email) are always there and grant no resource: a token for them alone has the default
// audience and serves the UserInfo endpoint.
export interface ScopeDef {
  name: string;
  /** undefined: the default audience. */
  audience: string | undefined;
  description: string;
  /** An OpenID Connect scope: it releases user claims, not access to a resource. */
  oidc?: boolean;
}

/** Always defined: they need no resource (OIDC Core §3.1.2.1, §5.4). */
const OIDC_SCOPE_DEFS: ScopeDef[] = [
  { name: 'openid', audience: undefined, description: 'Sign you in to this application', oidc: true },
  { name: 'profile', audience: undefined, description: 'See your name and username', oidc: true },
  { name: 'email', audience: undefined, description: 'See your email address', oidc: true },
];

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3

const DESCRIPTIONS: Record<string, string> = {
  api: 'Call the demo API as you',
};

export function parseScopeList(text: string): ScopeDef[] {
  const out: ScopeDef[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = item.indexOf('@');
    const name = at < 0 ? item : item.slice(0, at);
    const audience = at < 0 ? undefined : item.slice(at + 1);
    if (!SCOPE_TOKEN.test(name)) throw new Error(`"${name}" is not a valid scope name (RFC 6749 §3.3)`);
    if (audience !== undefined && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(audience)) throw new Error(`the audience of scope "${name}" must be a URI, got "${audience}"`);
    if (out.some((s) => s.name === name)) throw new Error(`scope "${name}" is listed twice`);
    if (OIDC_SCOPE_DEFS.some((s) => s.name === name)) throw new Error(`scope "${name}" is an OpenID Connect scope, always defined: leave it out`);
    out.push({ name, audience, description: DESCRIPTIONS[name] ?? `Use "${name}" on your behalf` });
  }
  return out;
}

/** Split a scope parameter into distinct names; undefined for a malformed one. */
export function splitScope(scope: string): string[] | undefined {
  const names = scope.split(' ');
  if (names.some((n) => !SCOPE_TOKEN.test(n))) return undefined;
  return [...new Set(names)];
}

export class Scopes {
  private readonly byName: Map<string, ScopeDef>;

  constructor(defs: ScopeDef[], private readonly defaultAudience: () => string) {
    this.byName = new Map([...defs, ...OIDC_SCOPE_DEFS].map((d) => [d.name, d]));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): ScopeDef | undefined {
    return this.byName.get(name);
  }

  /** The one resource a set of scopes grants; undefined when they name several (ask for one
   * resource at a time: every token has exactly one audience). */
  audienceOf(names: string[]): string | undefined {
    const auds = new Set(names.filter((n) => !this.byName.get(n)?.oidc).map((n) => this.byName.get(n)?.audience ?? this.defaultAudience()));
    if (auds.size === 0) return this.defaultAudience();
    return auds.size === 1 ? [...auds][0] : undefined;
  }

  /** Every audience a token of ours may carry. */
  audiences(): string[] {
    return [...new Set([this.defaultAudience(), ...[...this.byName.values()].filter((d) => !d.oidc).map((d) => d.audience ?? this.defaultAudience())])];
  }
}
