interface Entry<T> {
  at: number;
  /** Let go of once finished: a finished entry may wait in the queue behind an unfinished one. */
  item: T | undefined;
}

/**
 * Deadlines that all lie the same time after their start, kept with one timer: they fall due in
 * the order they were started, so only the oldest unfinished one needs watching. A timer per
 * handler run cost about 5 µs a message in the transport benchmark (Node files timers in one list
 * per duration and re-arms its native timer each time that list empties and refills).
 */
export class Deadlines<T extends object> {
  private entries: Entry<T>[] = [];
  /** Index of the oldest entry still kept: removing from the front of an array would copy it. */
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly afterMs: number,
    private readonly expire: (item: T) => void,
  ) {}

  /** Starts the item's deadline; the returned function ends it (once the work is done in time or not). */
  start(item: T): () => void {
    const entry: Entry<T> = { at: performance.now() + this.afterMs, item };
    this.entries.push(entry);
    // A timer armed for an earlier deadline stays: it fires first and re-arms for what is left.
    this.timer ??= this.arm(this.afterMs);
    return () => {
      entry.item = undefined;
      this.dropFinished();
    };
  }

  /** Stops watching: nothing expires after this. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.entries = [];
    this.head = 0;
  }

  private arm(inMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(inMs)));
    // Work in flight keeps the process alive by its own means; a watch over it must not.
    timer.unref();
    return timer;
  }

  private fire(): void {
    this.timer = undefined;
    const now = performance.now();
    let entry = this.oldest();
    for (; entry && entry.at <= now; entry = this.oldest()) {
      this.head++;
      this.expire(entry.item as T);
    }
    if (entry) this.timer = this.arm(entry.at - now);
  }

  /** The oldest unfinished entry, dropping finished ones in front of it. */
  private oldest(): Entry<T> | undefined {
    this.dropFinished();
    return this.entries[this.head];
  }

  private dropFinished(): void {
    while (this.head < this.entries.length && this.entries[this.head]?.item === undefined) this.head++;
    this.compact();
  }

  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head >= 1_024 && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
