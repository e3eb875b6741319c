// A subscription stream whose caller is proven again before each event it receives: a grant revoked
// or expired meanwhile ends the stream with the error its next request would get.

export function recheckedStream<T>(stream: AsyncIterableIterator<T>, recheck: () => Promise<void>): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      const step = await stream.next();
      if (step.done === true) return step;
      try {
        await recheck();
      } catch (error) {
        await stream.return?.();
        throw error;
      }
      return step;
    },
    async return() {
      await stream.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
