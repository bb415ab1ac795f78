// OIDC Front/Back-Channel Logout `sid`: one login session's id as relying parties see it. Derived
// from the stored hash of the session cookie (so nothing new is stored, and the cookie value cannot
// be recovered from it); the same for every client the session signs in to.
import { createHash } from 'node:crypto';

export function sidOf(sessionIdHash: string): string {
  return createHash('sha256').update(`sid:${sessionIdHash}`).digest('base64url').slice(0, 32);
}
