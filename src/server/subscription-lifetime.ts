// Ties the service's trainingStatus streams to the lifetime of the GraphQL operation that opened
// them. Pothos's errors plugin wraps a subscription's source in an async generator, and an async
// generator's return() waits for its pending next(): a client that left an idle index (socket cut,
// `complete` sent, SSE request aborted) would keep its service stream, and the event bus's
// subscription under it, until that index's next event, which may never come. Each operation
// therefore sees the service through a view whose streams end the moment the operation's signal
// aborts; ending the stream settles the pending next() and the whole chain above it unwinds.

import type { IndexService, TrainingStatus } from '../service/index.js';

/** `service`, except that trainingStatus streams are returned as soon as `signal` aborts. */
export function serviceForOperation(service: IndexService, signal: AbortSignal): IndexService {
  const trainingStatus: IndexService['trainingStatus'] = async (name, key) => {
    const stream = await service.trainingStatus(name, key);
    return endingOnAbort(stream, signal);
  };
  // A Proxy, not a subclass: the service keeps private state that its methods must see as `this`.
  return new Proxy(service, {
    get(target, property) {
      if (property === 'trainingStatus') return trainingStatus;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function endingOnAbort(stream: AsyncIterableIterator<TrainingStatus>, signal: AbortSignal): AsyncIterableIterator<TrainingStatus> {
  const stop = (): void => void stream.return?.();
  if (signal.aborted) {
    stop();
    return stream;
  }
  signal.addEventListener('abort', stop, { once: true });
  const release = (): void => signal.removeEventListener('abort', stop);
  const iterator: AsyncIterableIterator<TrainingStatus> = {
    async next() {
      const result = await stream.next();
      if (result.done === true) release();
      return result;
    },
    async return() {
      release();
      await stream.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * The operation's result, except that return() (graphql-ws calls it when the client completes the
 * subscription or the socket closes) first aborts `controller`, the signal its service view watches.
 */
export function abortingOnReturn<T>(result: AsyncIterable<T>, controller: AbortController): AsyncGenerator<T, void, undefined> {
  const inner = result[Symbol.asyncIterator]();
  const generator: AsyncGenerator<T, void, undefined> = {
    async next() {
      try {
        const step = await inner.next();
        if (step.done !== true) return step;
      } catch (error) {
        controller.abort();
        throw error;
      }
      controller.abort();
      return { value: undefined, done: true };
    },
    async return() {
      controller.abort();
      await inner.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      controller.abort();
      if (inner.throw !== undefined) await inner.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return generator;
    },
  };
  return generator;
}
