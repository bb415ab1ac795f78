// OAuth clients (RFC 6749 §2): registration rules, secrets, redirect-URI matching. A confidential
// client's secret is 256 random bits, shown once and stored as SHA-256 (high entropy: no KDF needed,
// so token requests stay fast); it is compared in constant time.
import type { Clock } from '../clock.js';
import { safeEqual } from '../crypto/compare.js';
import { hashToken, randomToken } from '../crypto/tokens.js';
import type { ClientRow } from '../store/clients.js';
import type { FreshCache } from '../store/fresh-cache.js';
import type { Store } from '../store/store.js';
import { JWT_LOGIN_CLIENT } from '../jwt-login/deps.js';
import type { Scopes } from './scopes.js';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
/** RFC 9700 §2.4, §2.1.2: exist because the mission asks, off unless a client is registered with them. */
export const LEGACY_GRANTS: readonly GrantType[] = ['password', 'implicit'];

export interface Client {
  clientId: string;
  name: string;
  type: 'confidential' | 'public';
  grantTypes: GrantType[];
  responseTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** OIDC Back-Channel Logout 1.0: where logout tokens are POSTed. */
  backchannelLogoutUri: string | null;
  scope: string[];
  accessTokenTtl: number | null;
  refreshTokenTtl: number | null;
  requireConsent: boolean;
  tokenFormat: 'jwt' | 'opaque';
  createdAt: string;
}

export interface NewClient {
  clientId: string;
  name?: string | undefined;
  public?: boolean | undefined;
  grantTypes: string[];
  redirectUris?: string[] | undefined;
  postLogoutRedirectUris?: string[] | undefined;
  backchannelLogoutUri?: string | undefined;
  scope?: string | undefined;
  accessTokenTtl?: number | undefined;
  refreshTokenTtl?: number | undefined;
  requireConsent?: boolean | undefined;
  tokenFormat?: 'jwt' | 'opaque' | undefined;
}

export class InvalidClientRegistration extends Error {}
export class ClientNotFound extends Error {
  constructor(id: string) {
    super(`no client with client_id "${id}"`);
  }
}

const list = (text: string) => JSON.parse(text) as string[];

/** Rows come from a cache (one object while unchanged): each is turned into a Client once. */
const views = new WeakMap<ClientRow, Client>();

export function toClient(row: ClientRow): Client {
  let client = views.get(row);
  if (!client) views.set(row, (client = clientView(row)));
  return client;
}

function clientView(row: ClientRow): Client {
  return {
    clientId: row.client_id,
    name: row.name,
    type: row.type === 'public' ? 'public' : 'confidential',
    grantTypes: list(row.grant_types) as GrantType[],
    responseTypes: responseTypesFor(list(row.grant_types)),
    redirectUris: list(row.redirect_uris),
    postLogoutRedirectUris: list(row.post_logout_redirect_uris),
    backchannelLogoutUri: row.backchannel_logout_uri,
    scope: row.scope.split(' ').filter(Boolean),
    accessTokenTtl: row.access_token_ttl,
    refreshTokenTtl: row.refresh_token_ttl,
    requireConsent: row.require_consent === 1,
    tokenFormat: row.token_format === 'opaque' ? 'opaque' : 'jwt',
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** The response types a client's grants allow (OAuth 2.0 Multiple Response Type Encoding, OIDC
 * Core §3): code; with implicit, the front-channel tokens; with both, the hybrid ones. */
export function responseTypesFor(grants: string[]): string[] {
  const code = grants.includes('authorization_code');
  const implicit = grants.includes('implicit');
  return [
    ...(code ? ['code'] : []),
    ...(implicit ? ['token', 'id_token', 'id_token token'] : []),
    ...(code && implicit ? ['code id_token', 'code token', 'code id_token token'] : []),
  ];
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A redirect URI may be registered if it is absolute, has no fragment, and is https, http on a
 * loopback host (RFC 8252 §7.3), or a private-use scheme with a dot (RFC 8252 §7.1). */
export function checkRedirectUri(uri: string): string {
  // new URL() would quietly drop surrounding spaces and inner tabs or newlines: the stored string
  // must be the one that is matched and the one redirected to (catalogue AZ-09).
  if (/[\x00-\x20\x7f]/.test(uri)) throw new InvalidClientRegistration(`redirect URI ${JSON.stringify(uri)} contains spaces or control characters`);
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new InvalidClientRegistration(`redirect URI "${uri}" is not an absolute URI`);
  }
  if (u.hash || uri.includes('#')) throw new InvalidClientRegistration(`redirect URI "${uri}" has a fragment (RFC 6749 §3.1.2)`);
  if (u.protocol === 'https:') return uri;
  if (u.protocol === 'http:') {
    if (LOOPBACK.has(u.hostname)) return uri;
    throw new InvalidClientRegistration(`redirect URI "${uri}" uses plain http on a non-loopback host`);
  }
  if (/^[a-z][a-z0-9+-]*\.[a-z0-9+.-]+:$/i.test(u.protocol)) return uri;
  throw new InvalidClientRegistration(`redirect URI "${uri}" has an unsupported scheme`);
}

/** OIDC Back-Channel Logout 1.0 §2.2: an absolute https URI (http on loopback), no fragment; the
 * server POSTs to it, so private-use schemes make no sense. */
export function checkBackchannelUri(uri: string): string {
  const ok = checkRedirectUri(uri);
  if (!/^https?:/.test(ok)) throw new InvalidClientRegistration(`back-channel logout URI "${uri}" must be https (or http on a loopback host)`);
  return ok;
}

/** RFC 6749 §3.1.2.3: simple string comparison, except that a loopback IP redirect URI matches on any
 * port (RFC 8252 §7.3: native apps listen on an ephemeral port). `localhost` gets no exception. */
export function redirectUriMatches(registered: string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  let p: URL;
  try {
    p = new URL(presented);
  } catch {
    return false;
  }
  if (p.protocol !== 'http:' || (p.hostname !== '127.0.0.1' && p.hostname !== '[::1]') || p.port === '') return false;
  const withoutPort = presented.replace(`${p.hostname}:${p.port}`, p.hostname);
  return withoutPort !== presented && registered.includes(withoutPort);
}

export class Clients {
  constructor(
    private readonly store: Store,
    private readonly scopes: Scopes,
    private readonly clock: Clock,
    private readonly rows: FreshCache<ClientRow | undefined>,
  ) {}

  async create(input: NewClient): Promise<{ client: Client; secret: string | undefined; warnings: string[] }> {
    const id = input.clientId;
    if (!/^[\x21-\x7e]{1,128}$/.test(id) || id.includes(':')) throw new InvalidClientRegistration('client_id must be 1-128 visible ASCII characters without ":"');
    if (id === JWT_LOGIN_CLIENT) throw new InvalidClientRegistration(`client_id "${id}" is reserved: the JWT login's tokens carry it`);
    const grants = [...new Set(input.grantTypes)];
    if (grants.length === 0) throw new InvalidClientRegistration('give at least one --grant');
    for (const g of grants) if (!(GRANT_TYPES as readonly string[]).includes(g)) throw new InvalidClientRegistration(`unknown grant type "${g}"; choose from ${GRANT_TYPES.join(', ')}`);
    const isPublic = input.public === true;
    if (isPublic && grants.includes('client_credentials')) throw new InvalidClientRegistration('a public client cannot use client_credentials (it has no secret)');
    const redirectUris = (input.redirectUris ?? []).map(checkRedirectUri);
    const interactive = grants.includes('authorization_code') || grants.includes('implicit');
    if (interactive && redirectUris.length === 0) throw new InvalidClientRegistration('authorization_code and implicit need at least one --redirect-uri');
    const scope = input.scope === undefined ? this.scopes.names() : input.scope.split(' ').filter(Boolean);
    for (const s of scope) if (!this.scopes.get(s)) throw new InvalidClientRegistration(`unknown scope "${s}"; configured: ${this.scopes.names().join(' ')}`);
    const responseTypes = responseTypesFor(grants);
    const backchannel = input.backchannelLogoutUri === undefined ? null : checkBackchannelUri(input.backchannelLogoutUri);
    const warnings = grants.filter((g) => LEGACY_GRANTS.includes(g as GrantType)).map((g) =>
      g === 'implicit'
        ? 'implicit (response_type=token) is enabled for this client: RFC 9700 §2.1.2 says not to use it (tokens in URLs leak through history and referrers); prefer authorization_code with PKCE'
        : 'the password grant is enabled for this client: RFC 9700 §2.4 says it MUST NOT be used (the client sees the password); prefer authorization_code with PKCE',
    );
    const secret = isPublic ? undefined : randomToken();
    const now = this.clock.now();
    const row: ClientRow = {
      client_id: id,
      name: input.name ?? id,
      type: isPublic ? 'public' : 'confidential',
      secret_hash: secret === undefined ? null : hashToken(secret),
      grant_types: JSON.stringify(grants),
      response_types: JSON.stringify(responseTypes),
      redirect_uris: JSON.stringify(redirectUris),
      post_logout_redirect_uris: JSON.stringify((input.postLogoutRedirectUris ?? []).map(checkRedirectUri)),
      scope: scope.join(' '),
      access_token_ttl: input.accessTokenTtl ?? null,
      refresh_token_ttl: input.refreshTokenTtl ?? null,
      require_consent: input.requireConsent === false ? 0 : 1,
      token_format: input.tokenFormat ?? 'jwt',
      created_at: now,
      updated_at: now,
      backchannel_logout_uri: backchannel,
    };
    await this.store.clients.create(row);
    return { client: toClient(row), secret, warnings };
  }

  async find(clientId: string): Promise<ClientRow | undefined> {
    if (clientId.length > 128) return undefined;
    return this.rows.get(clientId, 'clients', () => this.store.clients.find(clientId));
  }

  async require(clientId: string): Promise<ClientRow> {
    const row = await this.store.clients.find(clientId);
    if (!row) throw new ClientNotFound(clientId);
    return row;
  }

  async list(): Promise<Client[]> {
    return (await this.store.clients.list()).map(toClient);
  }

  /** Remove a client, and in the same transaction revoke what it was issued: its refresh families
   * and recorded access tokens (catalogue CA-13), so that nothing of it lives on, nor comes back
   * with a client registered later under the same id. Its codes and consents go by cascade. */
  async remove(clientId: string): Promise<void> {
    const now = this.clock.now();
    const removed = await this.store.transaction(async (tx) => {
      if (!(await tx.clients.remove(clientId))) return false;
      await tx.refreshTokens.revokeForClient(clientId, now, 'client-removed');
      return true;
    });
    if (!removed) throw new ClientNotFound(clientId);
  }

  /** A new secret; the old one stops working at once. */
  async rotateSecret(clientId: string): Promise<string> {
    const row = await this.require(clientId);
    if (row.type === 'public') throw new InvalidClientRegistration('a public client has no secret');
    const secret = randomToken();
    await this.store.clients.setSecretHash(clientId, hashToken(secret), this.clock.now());
    return secret;
  }

  /** Constant-time check of a presented secret against the stored hash. */
  static secretMatches(row: ClientRow, secret: string): boolean {
    return row.secret_hash !== null && safeEqual(hashToken(secret), row.secret_hash);
  }
}
