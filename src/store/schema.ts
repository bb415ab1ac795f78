// Table types, the one schema for both engines. Times are milliseconds since the epoch (bigint in
// PostgreSQL, parsed to number); flags are 0/1 integers so both engines read the same values.
import type { Generated } from 'kysely';
export interface UsersTable {
  id: string;
  username: string;
  username_key: string;
  email: string | null;
  display_name: string | null;
  password_hash: string | null;
  disabled: number;
  created_at: number;
  updated_at: number;
  /** 0/1: the address was verified by whoever created the account (OIDC email_verified). */
  email_verified: number;
}

/** H(A1) per user, realm and base algorithm, sealed with the server key (password-equivalent). */
export interface DigestCredentialsTable {
  user_id: string;
  realm: string;
  algorithm: string;
  userhash: string;
  ha1: string;
  created_at: number;
}

/** One row per accepted (nonce, nc): the primary key makes each pair usable exactly once. */
export interface DigestNonceUsesTable {
  nonce: string;
  nc: number;
  expires_at: number;
}

/** Failed-login counters, keyed "account:<username key>" or "ip:<address>". */
export interface LoginThrottleTable {
  key: string;
  failures: number;
  window_start: number;
  blocked_until: number;
  updated_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** A signing key pair; the private JWK is sealed with the server key (catalogue ST-03). */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_jwk: string;
  created_at: number;
  active_from: number | null;
  active_until: number | null;
  published_until: number | null;
}

/** One login's chain of refresh tokens. */
export interface RefreshFamiliesTable {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  auth_time: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  audience: string | null;
  /** The session (OIDC sid) the family was started from, if any. */
  sid: string | null;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  type: string;
  secret_hash: string | null;
  grant_types: string;
  response_types: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  scope: string;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  require_consent: number;
  token_format: string;
  created_at: number;
  updated_at: number;
  backchannel_logout_uri: string | null;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  code_challenge: string | null;
  nonce: string | null;
  auth_time: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  family_id: string | null;
  sid: string | null;
}

export interface ConsentsTable {
  user_id: string;
  client_id: string;
  scope: string;
  created_at: number;
  updated_at: number;
}

export interface AccessTokensTable {
  token_hash: string;
  client_id: string;
  user_id: string | null;
  scope: string;
  audience: string;
  family_id: string | null;
  auth_time: number | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  generation: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  auth_time: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

/** OIDC: the clients a session (by sid) signed in to, told of its logout (back-channel). */
export interface SessionClientsTable {
  sid: string;
  client_id: string;
  user_id: string;
  created_at: number;
}

/** SQLite only: writes that can change an authentication decision, read by every process (change-log.ts). */
export interface ChangeLogTable {
  seq: Generated<number>;
  account: string | null;
  at: number;
}

export interface Database {
  users: UsersTable;
  digest_credentials: DigestCredentialsTable;
  digest_nonce_uses: DigestNonceUsesTable;
  login_throttle: LoginThrottleTable;
  meta: MetaTable;
  signing_keys: SigningKeysTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  sessions: SessionsTable;
  clients: ClientsTable;
  authorization_codes: AuthorizationCodesTable;
  consents: ConsentsTable;
  access_tokens: AccessTokensTable;
  session_clients: SessionClientsTable;
  change_log: ChangeLogTable;
}
