// RFC 7617 §2 and §2.1: the challenge names the realm and announces UTF-8.
import { quote } from '../http-auth/credentials.js';

export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}, charset="UTF-8"`;
}
