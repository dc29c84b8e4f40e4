/**
 * At most `concurrency` uploads decode at once; up to `maxWaiting` more wait for a turn.
 * Beyond that `take()` answers undefined at once: the caller answers 503 rather than hold
 * yet another upload's bytes in memory.
 */
export class UploadSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly maxWaiting: number;

  constructor(concurrency: number, maxWaiting: number) {
    this.concurrency = concurrency;
    this.maxWaiting = maxWaiting;
  }

  get busy(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** A release function once a slot is free, or undefined when too many are waiting. */
  take(): Promise<() => void> | undefined {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return undefined;
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes on: running stays the same
      else this.running--;
    };
  }
}
