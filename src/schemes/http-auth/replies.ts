// The replies shared by the HTTP authentication schemes. A protocol module returns one of these; the
// web framework only copies it onto the wire.
export interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: unknown;
}

/** What a scheme needs to know about a request, without any web framework. */
export interface AuthRequest {
  method: string;
  /** The request-target exactly as received (origin-form: path and query). */
  target: string;
  host: string | undefined;
  /** Every Authorization field line received (normally zero or one). */
  authorization: string[];
  body: Buffer;
  ip: string;
  /** Over TLS, from a loopback address, or plain HTTP explicitly allowed. */
  secureEnough: boolean;
}

export const MAX_AUTHORIZATION_LENGTH = 4096;

export function unauthorized(challenges: string[]): Reply {
  return {
    status: 401,
    headers: { 'www-authenticate': challenges, 'cache-control': 'no-store' },
    body: { error: 'unauthorized', error_description: 'Valid credentials are required.' },
  };
}

export function badRequest(description: string, challenges?: string[]): Reply {
  return {
    status: 400,
    headers: { 'cache-control': 'no-store', ...(challenges ? { 'www-authenticate': challenges } : {}) },
    body: { error: 'invalid_request', error_description: description },
  };
}

export function tooManyAttempts(retryAfter: number): Reply {
  return {
    status: 429,
    headers: { 'retry-after': String(retryAfter), 'cache-control': 'no-store' },
    body: { error: 'too_many_attempts', error_description: 'Too many failed sign-in attempts. Try again later.' },
  };
}

export function insecureTransport(): Reply {
  return {
    status: 403,
    headers: { 'cache-control': 'no-store' },
    body: { error: 'insecure_transport', error_description: 'Passwords are accepted only over HTTPS (or from this machine).' },
  };
}

/** Checks every scheme makes before it reads credentials (catalogue BA-08, BA-10, BA-12).
 * Returns a reply to send, or the one Authorization value (undefined when there is none). */
export function precheck(req: AuthRequest): Reply | { value: string | undefined } {
  if (req.authorization.length > 1) return badRequest('Send one Authorization header.');
  const value = req.authorization[0];
  if (value === undefined) return { value };
  if (value.length > MAX_AUTHORIZATION_LENGTH) return badRequest('The Authorization header is too large.');
  if (!req.secureEnough) return insecureTransport();
  return { value };
}

/** An error in the OAuth shape (RFC 6749 §5.2): { error, error_description }, never cached. */
export function errorReply(status: number, error: string, description: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'cache-control': 'no-store', ...headers }, body: { error, error_description: safeDescription(description) } };
}

/** RFC 6749 §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash,
 * nothing outside printable ASCII). */
export function safeDescription(text: string): string {
  return text.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}
