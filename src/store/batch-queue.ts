// Group commit's queue: requests made in the same turn of the event loop, or while a batch is being
// written, are written together as the next batch (better-sqlite3 writes synchronously: a request
// read from the network later in a turn could not join a write already under way). The writer takes
// the batch when it is ready to write it (`take`): after it got the write lock, say, so that what
// arrived while it waited for the lock joins the batch.
export type Settled<O> = { ok: true; value: O } | { ok: false; err: unknown };

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export class BatchQueue<I, O> {
  private queue: Array<Pending<I, O>> = [];
  private draining = false;

  /** `write` settles each item of a batch; if it throws, every item of the batch fails with it. */
  constructor(private readonly write: (take: () => I[]) => Promise<Array<Settled<O>>>, private readonly maxBatch: number) {}

  push(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      let batch: Array<Pending<I, O>> | undefined;
      const take = () => (batch ??= this.queue.splice(0, this.maxBatch)).map((p) => p.item);
      let settled: Array<Settled<O>>;
      try {
        settled = await this.write(take);
        if (!batch) throw new Error('BatchQueue: the writer did not take the batch');
      } catch (err) {
        // A writer that failed before it took the batch (no lock) fails the batch it would have taken.
        take();
        settled = batch!.map(() => ({ ok: false, err }));
      }
      batch!.forEach((p, i) => {
        const s = settled[i]!;
        if (s.ok) p.resolve(s.value);
        else p.reject(s.err);
      });
    }
    this.draining = false;
  }
}
