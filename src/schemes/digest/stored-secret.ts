// RFC 7616 §5.2 / catalogue ST-02: H(A1) is password-equivalent. It is computed when a password is set,
// once per realm and base algorithm that is enabled, and stored sealed with the server key. MD5 H(A1)
// exists only while MD5 is enabled.
import type { SecretBox } from '../../crypto/secret-box.js';
import type { DigestCredentialRow } from '../../store/digest-credentials.js';
import { baseOf, type BaseAlgorithm, type DigestAlgorithm } from './algorithms.js';
import { ha1Of, userhashOf } from './compute.js';

export class DigestSecrets {
  readonly bases: BaseAlgorithm[];

  constructor(readonly realm: string, algorithms: readonly DigestAlgorithm[], private readonly box: SecretBox) {
    this.bases = [...new Set(algorithms.map(baseOf))];
  }

  private context(userId: string, base: BaseAlgorithm): string {
    return `digest-ha1\0${userId}\0${this.realm}\0${base}`;
  }

  rowsFor(userId: string, username: string, password: string, now: number): DigestCredentialRow[] {
    return this.bases.map((base) => ({
      user_id: userId,
      realm: this.realm,
      algorithm: base,
      userhash: userhashOf(base, username, this.realm),
      ha1: this.box.seal(ha1Of(base, username, this.realm, password), this.context(userId, base)),
      created_at: now,
    }));
  }

  open(row: DigestCredentialRow): string {
    return this.box.open(row.ha1, this.context(row.user_id, row.algorithm as BaseAlgorithm));
  }
}
