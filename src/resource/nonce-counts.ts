// RFC 7616 §3.4, §5: each (nonce, nc) pair is accepted once. The toolkit's default record, in this
// process's memory: enough for one process (nonces are HMACs under a key of this process unless one
// is configured). Several instances sharing a nonce key need a shared record: pass `claim` to the
// Digest verifier (an INSERT of (nonce, nc) that fails on a duplicate, as src/store/digest-nonces.ts).
export type Claim = (nonce: string, nc: number, expiresAt: number) => Promise<boolean> | boolean;

export class NonceCounts {
  private readonly used = new Map<string, { expiresAt: number; counts: Set<number> }>();

  constructor(private readonly now: () => number, private readonly maxNonces = 100_000) {}

  readonly claim: Claim = (nonce, nc, expiresAt) => {
    let entry = this.used.get(nonce);
    if (!entry) {
      if (this.used.size >= this.maxNonces) this.prune();
      if (this.used.size >= this.maxNonces) return false; // full of live nonces: the client gets a new one
      entry = { expiresAt, counts: new Set() };
      this.used.set(nonce, entry);
    }
    if (entry.counts.has(nc)) return false;
    entry.counts.add(nc);
    return true;
  };

  private prune(): void {
    const now = this.now();
    for (const [nonce, e] of this.used) if (e.expiresAt <= now) this.used.delete(nonce);
  }
}
