// Digest (nonce, nc) claims on SQLite: an append-only log, judged in memory.
//
// Why not a unique index: each nonce in use has its claims on its own B-tree page, and SQLite writes
// every page a transaction touches to the WAL again, so a batch of claims for k nonces cost k page
// writes (about 9 µs a claim on the benchmark machine). Appending to a rowid table touches one or two
// pages per batch, whatever k is.
//
// Exactly one winner, also between processes sharing the file: a batch runs inside BEGIN IMMEDIATE,
// SQLite's single write lock. In it the process first reads the rows other processes appended since
// its last batch, then decides each claim against everything it knows, then appends the winners.
// Nobody can append between that read and the COMMIT.
//
// Memory: per live nonce, its one used count, or a bitmap of them (nc <= GATEHOUSE_DIGEST_MAX_NC,
// checked before a claim is made; counts above 2^20 go to a set), in buckets by expiry so that the
// purge drops whole buckets. On first use the whole log is read back.
// Rowids only grow (AUTOINCREMENT, migration 005): a reader that has seen rows up to N takes every
// row above N as new. Purging deletes the front of the log, up to the first row of a live nonce.
import type BetterSqlite3 from 'better-sqlite3';

export type Claim = [nonce: string, nc: number, expiresAt: number];

const BITMAP_LIMIT = 1 << 20;

/** The counts used so far of one nonce that has more than one. */
class UsedCounts {
  private bits = new Uint32Array(4);
  private big: Set<number> | undefined;

  /** Mark `nc` used; false when it already was. */
  take(nc: number): boolean {
    if (nc >= BITMAP_LIMIT) {
      this.big ??= new Set();
      if (this.big.has(nc)) return false;
      this.big.add(nc);
      return true;
    }
    const word = nc >>> 5;
    if (word >= this.bits.length) {
      const grown = new Uint32Array(Math.min(Math.max(this.bits.length * 2, word + 1), BITMAP_LIMIT >>> 5));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (nc & 31);
    if ((this.bits[word]! & mask) !== 0) return false;
    this.bits[word] = this.bits[word]! | mask;
    return true;
  }

  /** Undo take(nc) (its batch did not commit). */
  release(nc: number): void {
    if (nc >= BITMAP_LIMIT) this.big?.delete(nc);
    else this.bits[nc >>> 5] = this.bits[nc >>> 5]! & ~(1 << (nc & 31));
  }
}

/** Nonces by expiry, in buckets of this many ms: a purge drops whole buckets. */
const BUCKET_MS = 10_000;

/** What is known of the used counts of live nonces. Most nonces of clients that never reuse one are
 * used once: such a nonce costs its key and one number, not a bitmap. */
class UsedPairs {
  private readonly buckets = new Map<number, Map<string, number | UsedCounts>>();

  /** Mark (nonce, nc) used; false when it already was. */
  take(nonce: string, nc: number, expiresAt: number): boolean {
    const key = Math.floor(expiresAt / BUCKET_MS);
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new Map()));
    const known = bucket.get(nonce);
    if (known === undefined) {
      bucket.set(nonce, nc);
      return true;
    }
    if (typeof known !== 'number') return known.take(nc);
    if (known === nc) return false;
    const counts = new UsedCounts();
    counts.take(known);
    counts.take(nc);
    bucket.set(nonce, counts);
    return true;
  }

  /** Undo take (its batch did not commit). */
  release(nonce: string, nc: number, expiresAt: number): void {
    const bucket = this.buckets.get(Math.floor(expiresAt / BUCKET_MS));
    const known = bucket?.get(nonce);
    if (known === nc) bucket!.delete(nonce);
    else if (known !== undefined && typeof known !== 'number') known.release(nc);
  }

  /** Forget every nonce expired at `now`. */
  forgetExpired(now: number): void {
    for (const key of this.buckets.keys()) if ((key + 1) * BUCKET_MS <= now) this.buckets.delete(key);
  }
}

interface LogRow {
  seq: number;
  nonce: string;
  nc: number;
  expires_at: number;
}

export class SqliteClaimLog {
  private readonly used = new UsedPairs();
  /** The highest rowid this process has read or written. */
  private seen = -1;
  private statements: ReturnType<SqliteClaimLog['prepare']> | undefined;

  constructor(private readonly raw: BetterSqlite3.Database) {}

  /** Decide and record one batch, in one write transaction; true for each claim that won. The
   * batch is taken (`take`) once the transaction holds the write lock. */
  write(take: () => Claim[]): boolean[] {
    const s = (this.statements ??= this.prepare());
    const before = this.seen;
    const taken: Claim[] = [];
    try {
      return s.decide(take, taken);
    } catch (err) {
      // Nothing of the batch was kept: forget its winners, and read its rowids again next time
      // (another process may now write rows with them).
      for (const [nonce, nc, expiresAt] of taken) this.used.release(nonce, nc, expiresAt);
      this.seen = before;
      throw err;
    }
  }

  /** Delete the rows of expired nonces from the front of the log, and forget those nonces. */
  purge(now: number): number {
    const s = (this.statements ??= this.prepare());
    const deleted = s.purge(now);
    this.used.forgetExpired(now);
    return deleted;
  }

  /** The counts recorded for a nonce, in the log (for tests and support). */
  recorded(nonce: string): number[] {
    const s = (this.statements ??= this.prepare());
    return s.recorded.all(nonce) as number[];
  }

  /** Prepared once the migrations have made the table. */
  private prepare() {
    const after = this.raw.prepare<[number], LogRow>('select seq, nonce, nc, expires_at from digest_claim_log where seq > ? order by seq');
    const append = this.raw.prepare<[string, number, number]>('insert into digest_claim_log (nonce, nc, expires_at) values (?, ?, ?)');
    const firstLive = this.raw.prepare<[number], number>('select seq from digest_claim_log where expires_at > ? order by seq limit 1').pluck();
    const newest = this.raw.prepare<[], number | null>('select max(seq) from digest_claim_log').pluck();
    const deleteBefore = this.raw.prepare<[number]>('delete from digest_claim_log where seq < ?');
    const recorded = this.raw.prepare<[string]>('select nc from digest_claim_log where nonce = ? order by nc').pluck();
    const catchUp = () => {
      for (const row of after.iterate(this.seen)) {
        this.used.take(row.nonce, row.nc, row.expires_at);
        this.seen = row.seq;
      }
    };
    const decide = this.raw.transaction((take: () => Claim[], taken: Claim[]) => {
      catchUp();
      return take().map((claim) => {
        const [nonce, nc, expiresAt] = claim;
        if (!this.used.take(nonce, nc, expiresAt)) return false;
        taken.push(claim);
        this.seen = Number(append.run(nonce, nc, expiresAt).lastInsertRowid);
        return true;
      });
    });
    const purge = this.raw.transaction((now: number) => {
      const bound = firstLive.get(now) ?? (newest.get() ?? 0) + 1;
      return deleteBefore.run(bound).changes;
    });
    return { decide: (take: () => Claim[], taken: Claim[]) => decide.immediate(take, taken), purge: (now: number) => purge.immediate(now), recorded };
  }
}
