/** Thrown when more work waits than the queue allows: the HTTP layer answers 503 with Retry-After. */
export class OverloadedError extends Error {
  constructor() {
    super('too many password checks are waiting');
  }
}

/** A counting semaphore with a bounded wait queue. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number, private readonly maxQueue: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new OverloadedError();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
