// RFC 7617 HTTP Basic: check → parse → password login (throttled, shared with every password path).
import type { Accounts, LoginOptions, User } from '../../accounts/accounts.js';
import { MalformedCredentials, splitCredentials } from '../http-auth/credentials.js';
import { precheck, tooManyAttempts, unauthorized, type AuthRequest, type Reply } from '../http-auth/replies.js';
import { basicChallenge } from './challenge.js';
import { parseBasic } from './parse.js';

/** The one token68 of a user's stored name and normalised password. */
const canonicalBasic = (username: string, password: string) => `basic:${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

export type BasicOutcome = { ok: true; user: User } | { ok: false; reply: Reply };

export interface BasicDeps {
  realm: string;
  accounts: Accounts;
  recordMalformed(ip: string): Promise<void>;
}

export async function authenticateBasic(req: AuthRequest, deps: BasicDeps): Promise<BasicOutcome> {
  const challenge = () => [basicChallenge(deps.realm)];
  const pre = precheck(req);
  if (!('value' in pre)) return { ok: false, reply: pre };
  if (pre.value === undefined) return { ok: false, reply: unauthorized(challenge()) };
  let creds;
  let proof: LoginOptions['proof'];
  try {
    const { scheme, rest } = splitCredentials(pre.value);
    if (scheme !== 'basic') return { ok: false, reply: unauthorized(challenge()) };
    // The same credentials as a moment ago, nothing changed since: no decoding, no await.
    const user = deps.accounts.recentLogin(`basic:${rest}`, req.ip);
    if (user) return { ok: true, user };
    creds = parseBasic(rest);
    proof = { presented: `basic:${rest}`, canonical: canonicalBasic };
  } catch (err) {
    if (!(err instanceof MalformedCredentials)) throw err;
    await deps.recordMalformed(req.ip);
    return { ok: false, reply: unauthorized(challenge()) };
  }
  const result = await deps.accounts.passwordLogin(creds.userId, creds.password, req.ip, { proof });
  if (result.kind === 'wait') return { ok: false, reply: tooManyAttempts(result.retryAfter) };
  if (result.kind === 'fail') return { ok: false, reply: unauthorized(challenge()) };
  return { ok: true, user: result.user };
}
