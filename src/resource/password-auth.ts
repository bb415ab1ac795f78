// What a route learns about a caller authenticated with a password scheme (Basic or Digest), and
// the replies those schemes share in the toolkit.
import { errorReply, type Reply } from '../schemes/http-auth/replies.js';

export interface PasswordAuth<U = unknown> {
  scheme: 'Basic' | 'Digest';
  /** The user-id as the client sent it. */
  username: string;
  /** What the lookup returned with the secret (undefined when it returned none). */
  user: U | undefined;
}

/** The API's user lookup failed (its database is down, say): nobody is let in, and nobody is told
 * their password is wrong. */
export function lookupFailed(): Reply {
  return errorReply(503, 'temporarily_unavailable', 'Sign-in is not available right now. Try again later.', { 'retry-after': '5' });
}
