// Remembers, for a short time, that a username and password verified, so that repeated Basic requests
// do not pay argon2 each time. The key is an HMAC under a per-process random key, so the cache holds
// no password and no offline-guessable hash. An entry also records the password hash it was checked
// against: the caller compares it with the stored row, so a password change or a disable made by any
// process (another instance, the CLI) takes effect at once.
import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';

interface Entry {
  userId: string;
  passwordHash: string;
  usernameKey: string;
  expiresAt: number;
}

export class CredentialCache {
  private readonly key = randomBytes(32);
  /** A second key for proofs, so that no proof can name the same entry as a username and password. */
  private readonly proofKey = randomBytes(32);
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: number, private readonly clock: Clock, private readonly maxEntries = 10000) {}

  /** The HMAC that names a credential (also used to coalesce concurrent checks of it). */
  id(usernameKey: string, password: string): string {
    return createHmac('sha256', this.key).update(usernameKey).update('\0').update(password).digest('base64url');
  }

  /** The HMAC that names exact credential bytes as a scheme sent them (e.g. a Basic token68): a
   * repeat of them can be recognised without decoding and normalising them again. */
  proofId(proof: string): string {
    return createHmac('sha256', this.proofKey).update(proof).digest('base64url');
  }

  /** `id` is this.id(usernameKey, password) or this.proofId(proof): the caller computes it once. */
  get(id: string): Entry | undefined {
    if (this.ttlMs === 0) return undefined;
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expiresAt <= this.clock.now()) {
      this.entries.delete(id);
      return undefined;
    }
    return e;
  }

  put(id: string, userId: string, passwordHash: string, usernameKey: string): void {
    if (this.ttlMs === 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(id, { userId, passwordHash, usernameKey, expiresAt: this.clock.now() + this.ttlMs });
  }

  /** Drop every entry of a user (password change, disable, removal in this process). */
  forgetUser(userId: string): void {
    for (const [id, e] of this.entries) if (e.userId === userId) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
}
