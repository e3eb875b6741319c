// A per-index write lock: upserts, deletes and the training swap of one index run one at a time,
// so the store and the in-memory engine always change in the same order.

export class WriteLock {
  #tail: Promise<void> = Promise.resolve();
  #held = 0;

  /** True while a critical section is running or waiting (idle eviction leaves such indexes alone). */
  get busy(): boolean {
    return this.#held > 0;
  }

  /** Runs `section` after every earlier section has settled; its failure does not poison the lock. */
  run<T>(section: () => Promise<T> | T): Promise<T> {
    this.#held++;
    const result = this.#tail.then(section);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    void this.#tail.then(() => {
      this.#held--;
    });
    return result;
  }
}
