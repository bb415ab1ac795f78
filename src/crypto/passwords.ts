// Password hashing with argon2id (OWASP: m=19456 KiB, t=2, p=1). Hashing runs on libuv's thread pool,
// never on the event loop, behind a concurrency cap with a bounded queue (catalogue R-15, RL-07).
import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { Semaphore } from './semaphore.js';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export class PasswordHasher {
  private readonly gate: Semaphore;
  private dummy: Promise<string> | undefined;

  constructor(private readonly params: Argon2Params, concurrency: number, queue: number) {
    this.gate = new Semaphore(concurrency, queue);
  }

  async hash(password: string): Promise<string> {
    const phc = await this.gate.run(() => argon2.hash(password, { type: argon2.argon2id, ...this.params, hashLength: 32 }));
    return canonicalPhc(phc);
  }

  /** Verify against a stored PHC string. A missing hash is checked against a dummy hash of the same
   * cost, so an unknown user costs what a wrong password costs (catalogue BA-09). */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const target = hash ?? (await this.dummyHash());
    const ok = await this.gate.run(async () => {
      try {
        return await argon2.verify(target, password);
      } catch {
        return false;
      }
    });
    return ok && hash != null;
  }

  needsRehash(hash: string): boolean {
    try {
      return argon2.needsRehash(hash, { ...this.params });
    } catch {
      return true;
    }
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= this.hash(randomBytes(16).toString('base64url'));
    return this.dummy;
  }
}

/** node-argon2 0.45 writes the parameters as m,p,t; the PHC string format (and libargon2's own
 * decoder) wants m,t,p. Store the canonical order so other stacks can verify our hashes. */
export function canonicalPhc(phc: string): string {
  return phc.replace(/\$m=(\d+),p=(\d+),t=(\d+)\$/, '$m=$1,t=$3,p=$2$');
}
