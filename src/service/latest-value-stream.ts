// An async iterator of the latest value only: each next() gets the newest value offered since
// the last one was taken (or waits for one), so a slow consumer skips values and never builds a
// queue. For views that describe a state (the training queue, an index's stats), where only the
// latest state matters. Hand-written for the reasons training-events.ts gives about Repeater
// (values offered before the first next() must not be lost).

export class LatestValueStream<T> implements AsyncIterableIterator<T> {
  #value: { current: T } | null = null;
  #waiter: ((result: IteratorResult<T, undefined>) => void) | null = null;
  #done = false;
  readonly #onEnd: () => void;

  /** `onEnd` runs once, when the consumer returns or end() is called: release timers and listeners there. */
  constructor(onEnd: () => void) {
    this.#onEnd = onEnd;
  }

  offer(value: T): void {
    if (this.#done) return;
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter({ value, done: false });
      return;
    }
    this.#value = { current: value };
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const held = this.#value;
    if (held !== null) {
      this.#value = null;
      return Promise.resolve({ value: held.current, done: false });
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      // One consumer at a time: a second concurrent next() replaces the first, which then ends.
      this.#waiter?.({ value: undefined, done: true });
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#value = null;
    this.#onEnd();
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
