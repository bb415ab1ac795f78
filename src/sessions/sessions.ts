// Server-side cookie sessions (catalogue SS-01..SS-07). The id is 256 random bits; only its SHA-256
// is stored. Every login makes a new id and ends the session the browser brought along (no
// fixation). A session ends after `idle` without use or `absolute` after login, whichever is first;
// a disabled or removed user has no session.
import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.js';
import { safeEqual } from '../crypto/compare.js';
import { hashToken, looksLikeToken, randomToken } from '../crypto/tokens.js';
import type { SessionRow } from '../store/sessions.js';
import type { Store } from '../store/store.js';
import type { UserRow } from '../store/users.js';

export interface SessionConfig {
  idleMs: number;
  absoluteMs: number;
}

export interface LiveSession {
  row: SessionRow;
  user: UserRow;
}

export class Sessions {
  /** Told of sessions ended by a login (the replaced one) or a logout, by id hash: OIDC back-channel
   * logout (set by gatehouse.ts). A failure to tell does not undo the end. */
  onEnded: ((sessionIdHashes: string[]) => Promise<unknown>) | undefined;

  constructor(
    private readonly store: Store,
    private readonly config: SessionConfig,
    private readonly clock: Clock,
    private readonly csrfKey: Buffer,
  ) {}

  /** A new session for a user who has just proved who they are. `previous` (the id the browser
   * sent, if any) is ended in the same transaction. */
  async create(userId: string, previous: string | undefined): Promise<{ id: string; row: SessionRow }> {
    const now = this.clock.now();
    const id = randomToken();
    const row: SessionRow = { id_hash: hashToken(id), user_id: userId, auth_time: now, created_at: now, last_seen_at: now, expires_at: now + this.config.absoluteMs };
    const replaced = await this.store.transaction(async (tx) => {
      const ended = looksLikeToken(previous) && (await tx.sessions.remove(hashToken(previous)));
      await tx.sessions.create(row);
      return ended ? hashToken(previous as string) : undefined;
    });
    if (replaced) await this.ended([replaced]);
    return { id, row };
  }

  /** The live session for this id, or undefined. Slides the idle timeout (writing at most once a
   * minute per session). */
  async find(id: string | undefined): Promise<LiveSession | undefined> {
    if (!looksLikeToken(id)) return undefined;
    const hash = hashToken(id);
    const row = await this.store.sessions.find(hash);
    if (!row) return undefined;
    const now = this.clock.now();
    if (row.expires_at <= now || row.last_seen_at + this.config.idleMs <= now) {
      // A session that ran out ends like one logged out: its clients are told (back-channel), but
      // this request does not wait for them.
      if (await this.store.sessions.remove(hash)) void this.ended([hash]);
      return undefined;
    }
    const user = await this.store.users.findById(row.user_id);
    if (!user || user.disabled === 1) return undefined;
    const step = Math.min(60_000, this.config.idleMs / 10);
    if (row.last_seen_at <= now - step) await this.store.sessions.touch(hash, now, now - step);
    return { row, user };
  }

  /** End a session; returns whether there was one. */
  async destroy(id: string | undefined): Promise<boolean> {
    if (!looksLikeToken(id)) return false;
    const removed = await this.store.sessions.remove(hashToken(id));
    if (removed) await this.ended([hashToken(id)]);
    return removed;
  }

  /** Remove the sessions that ran out (maintenance); their clients are told, as after a logout. */
  async purgeExpired(now: number): Promise<number> {
    const ended = await this.store.sessions.purgeExpired(now, now - this.config.idleMs);
    if (ended.length) await this.ended(ended);
    return ended.length;
  }

  private async ended(hashes: string[]): Promise<void> {
    await this.onEnded?.(hashes).catch(() => {});
  }

  /** The anti-CSRF token of a session: an HMAC of its id, so nothing more is stored. */
  csrfToken(id: string): string {
    return createHmac('sha256', this.csrfKey).update(hashToken(id)).digest('base64url');
  }

  /** An anti-CSRF token bound to some value (a pre-login cookie, a session and a request). */
  bindToken(purpose: string, value: string): string {
    return createHmac('sha256', this.csrfKey).update(`${purpose}\0${value}`).digest('base64url');
  }

  checkBound(purpose: string, value: string, token: unknown): boolean {
    return typeof token === 'string' && token.length > 0 && token.length < 100 && safeEqual(token, this.bindToken(purpose, value));
  }

  checkCsrf(id: string, token: unknown): boolean {
    return typeof token === 'string' && token.length > 0 && token.length < 100 && safeEqual(token, this.csrfToken(id));
  }
}
