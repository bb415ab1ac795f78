// Failed-login protection shared by every password path (Basic, Digest; later the JWT login and the
// password grant). Counters live in the store, so they hold across instances and restarts
// (catalogue RL-01, RL-02, RL-10, RL-11). Per account: a few free failures, then a doubling wait, and a
// hard lock after many consecutive failures. Per client address: a fixed window.
import type { Clock } from '../clock.js';
import type { LoginThrottleRepo, ThrottleRow } from '../store/login-throttle.js';

export interface ThrottleSettings {
  throttle: boolean;
  lockoutFreeFailures: number;
  lockoutBaseDelay: number;
  lockoutMaxDelay: number;
  lockoutHardLimit: number;
  lockoutResetAfter: number;
  ipFailureLimit: number;
  ipFailureWindow: number;
}

/** `open` says whether the account has failures on record, so a success only writes when it must. */
export type ThrottleVerdict = { kind: 'open'; hasFailures: boolean } | { kind: 'wait'; retryAfter: number } | { kind: 'locked' };

const accountKey = (usernameKey: string) => `account:${usernameKey}`;
const ipKey = (ip: string) => `ip:${ip}`;

export class LoginThrottle {
  constructor(private readonly repo: LoginThrottleRepo, private readonly s: ThrottleSettings, private readonly clock: Clock) {}

  /** May this account, from this address, try a password now? */
  async check(usernameKey: string, ip: string): Promise<ThrottleVerdict> {
    if (!this.s.throttle) return { kind: 'open', hasFailures: false };
    const now = this.clock.now();
    const rows = await this.repo.read([accountKey(usernameKey), ipKey(ip)]);
    let wait = 0;
    let locked = false;
    let hasFailures = false;
    for (const row of rows) {
      if (row.key.startsWith('ip:')) {
        const end = row.window_start + this.s.ipFailureWindow * 1000;
        if (row.failures >= this.s.ipFailureLimit && end > now) wait = Math.max(wait, end - now);
      } else {
        hasFailures = true;
        if (!this.accountCounts(row, now)) continue;
        if (row.blocked_until > now) wait = Math.max(wait, row.blocked_until - now);
        else if (row.failures >= this.s.lockoutHardLimit) locked = true;
      }
    }
    if (wait > 0) return { kind: 'wait', retryAfter: Math.ceil(wait / 1000) };
    return locked ? { kind: 'locked' } : { kind: 'open', hasFailures };
  }

  async failure(usernameKey: string | undefined, ip: string): Promise<void> {
    if (!this.s.throttle) return;
    const now = this.clock.now();
    await this.repo.recordFailure(ipKey(ip), now, now - this.s.ipFailureWindow * 1000, 'window_start');
    if (usernameKey === undefined) return;
    const key = accountKey(usernameKey);
    const row = await this.repo.recordFailure(key, now, now - this.s.lockoutResetAfter * 1000, 'updated_at');
    const over = row.failures - this.s.lockoutFreeFailures;
    if (over > 0) {
      const delay = Math.min(this.s.lockoutBaseDelay * 2 ** Math.min(over - 1, 30), this.s.lockoutMaxDelay);
      await this.repo.extendBlock(key, now + delay * 1000);
    }
  }

  /** A correct password ends the run of consecutive failures (catalogue RL-05). */
  async success(usernameKey: string): Promise<void> {
    if (!this.s.throttle) return;
    await this.repo.clear(accountKey(usernameKey));
  }

  /** Lift a hard lock (admin action, or a new password). */
  unlock(usernameKey: string): Promise<void> {
    return this.repo.clear(accountKey(usernameKey));
  }

  private accountCounts(row: ThrottleRow, now: number): boolean {
    return row.updated_at > now - this.s.lockoutResetAfter * 1000;
  }
}
