// Failed-login protection shared by every password path (Basic, Digest; later the JWT login and the
// password grant). Counters live in the store, so they hold across instances and restarts
// (catalogue RL-01, RL-02, RL-10, RL-11).
//
// Per account: a few free failures, then a doubling wait, and a hard lock after many consecutive
// failures. Per client address: a fixed window. Two steps:
//   check()  a read, before anything else: is the account or address blocked now? (429)
//   begin()  an atomic reservation taken before a password is checked: it counts the attempt as a
//            failure up front and, past the free failures, blocks the account while the check runs.
//            Parallel guesses therefore get no more checks than sequential ones (RL-07).
//            The attempt then ends with fail() or succeed().
import type { Clock } from '../clock.js';
import type { Settings } from '../config/settings.js';
import type { FreshCache } from '../store/fresh-cache.js';
import type { LoginThrottleRepo, ThrottleRow } from '../store/login-throttle.js';

export type ThrottleSettings = Pick<
  Settings,
  'throttle' | 'lockoutFreeFailures' | 'lockoutBaseDelay' | 'lockoutMaxDelay' | 'lockoutHardLimit' | 'lockoutResetAfter' | 'ipFailureLimit' | 'ipFailureWindow'
>;

/** `open` says whether the account has failures on record (a success must then clear them). */
export type ThrottleVerdict = { kind: 'open'; hasFailures: boolean } | { kind: 'wait'; retryAfter: number } | { kind: 'locked' };

export interface Attempt {
  kind: 'attempt';
  /** The account had reached the hard limit: answer as for a wrong password, without checking. */
  locked: boolean;
  fail(): Promise<void>;
  succeed(): Promise<void>;
}

/** How long an attempt past the free ones holds the account while its password is checked. */
const CHECK_HOLD_MS = 10_000;

const accountKey = (usernameKey: string) => `account:${usernameKey}`;
const ipKey = (ip: string) => `ip:${ip}`;
const wait = (ms: number) => ({ kind: 'wait' as const, retryAfter: Math.max(1, Math.ceil(ms / 1000)) });

export class LoginThrottle {
  constructor(
    private readonly repo: LoginThrottleRepo,
    private readonly s: ThrottleSettings,
    private readonly clock: Clock,
    private readonly rows: FreshCache<ThrottleRow[]>,
  ) {}

  async check(usernameKey: string, ip: string): Promise<ThrottleVerdict> {
    if (!this.s.throttle) return { kind: 'open', hasFailures: false };
    const account = accountKey(usernameKey);
    return this.verdict(await this.rows.get(`${account}\0${ip}`, [account, ipKey(ip)], () => this.repo.read([account, ipKey(ip)])));
  }

  /** True when the counters cached for this account and address, still fresh, say it is open with no
   * failures on record; false when a read (check) is needed to know. Never awaits. */
  isClearNow(usernameKey: string, ip: string): boolean {
    if (!this.s.throttle) return true;
    const account = accountKey(usernameKey);
    const cached = this.rows.peek(`${account}\0${ip}`, [account, ipKey(ip)]);
    if (!cached) return false;
    const v = this.verdict(cached.value);
    return v.kind === 'open' && !v.hasFailures;
  }

  private verdict(rows: ThrottleRow[]): ThrottleVerdict {
    const now = this.clock.now();
    let blockedFor = 0;
    let locked = false;
    let hasFailures = false;
    for (const row of rows) {
      if (row.key.startsWith('ip:')) {
        const end = row.window_start + this.s.ipFailureWindow * 1000;
        if (row.failures >= this.s.ipFailureLimit && end > now) blockedFor = Math.max(blockedFor, end - now);
        continue;
      }
      hasFailures = true;
      if (row.blocked_until > now) blockedFor = Math.max(blockedFor, row.blocked_until - now);
      else if (row.failures >= this.s.lockoutHardLimit) locked = true;
    }
    if (blockedFor > 0) return wait(blockedFor);
    return locked ? { kind: 'locked' } : { kind: 'open', hasFailures };
  }

  /** Reserve one password check for an account and address (see above). `usernameKey` undefined
   * counts against the address only (credentials without a usable name). */
  async begin(usernameKey: string | undefined, ip: string): Promise<Attempt | ThrottleVerdict> {
    if (!this.s.throttle) return { kind: 'attempt', locked: false, fail: async () => {}, succeed: async () => {} };
    const now = this.clock.now();
    const ipCount = await this.repo.countInWindow(ipKey(ip), now, now - this.s.ipFailureWindow * 1000);
    if (ipCount > this.s.ipFailureLimit) return this.denied(usernameKey, ip);
    if (usernameKey === undefined) {
      return { kind: 'attempt', locked: false, fail: async () => {}, succeed: () => this.repo.uncount(ipKey(ip)) };
    }
    const key = accountKey(usernameKey);
    const count = await this.repo.reserve({
      key,
      now,
      restartBefore: now - this.s.lockoutResetAfter * 1000,
      sticky: this.s.lockoutHardLimit,
      free: this.s.lockoutFreeFailures,
      blockUntil: now + CHECK_HOLD_MS,
    });
    if (count === undefined) {
      await this.repo.uncount(ipKey(ip));
      return this.denied(usernameKey, ip);
    }
    const blockAfterFailure = async () => {
      const over = count - this.s.lockoutFreeFailures;
      if (over > 0) {
        const delay = Math.min(this.s.lockoutBaseDelay * 2 ** Math.min(over - 1, 30), this.s.lockoutMaxDelay);
        await this.repo.setBlock(key, this.clock.now() + delay * 1000);
      }
    };
    return {
      kind: 'attempt',
      locked: count > this.s.lockoutHardLimit,
      fail: blockAfterFailure,
      succeed: async () => {
        await this.repo.clear(key);
        await this.repo.uncount(ipKey(ip));
      },
    };
  }

  private async denied(usernameKey: string | undefined, ip: string): Promise<ThrottleVerdict> {
    const verdict = await this.check(usernameKey ?? '', ip);
    return verdict.kind === 'wait' ? verdict : wait(1000);
  }

  /** A success seen without a reservation (a cached credential) still ends a run of failures. */
  async clearAccount(usernameKey: string): Promise<void> {
    if (this.s.throttle) await this.repo.clear(accountKey(usernameKey));
  }

  /** Count a failure that needed no password check (malformed credentials) against the address. */
  async failureFromAddress(ip: string): Promise<void> {
    if (!this.s.throttle) return;
    const now = this.clock.now();
    await this.repo.countInWindow(ipKey(ip), now, now - this.s.ipFailureWindow * 1000);
  }

  /** Lift a hard lock (admin action, or a new password). */
  unlock(usernameKey: string): Promise<void> {
    return this.repo.clear(accountKey(usernameKey));
  }
}
