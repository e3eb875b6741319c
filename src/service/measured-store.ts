// The store with every call timed and its failures classified for the service's metrics. A
// Proxy, so methods a store gains later are measured without this file knowing them; streaming
// scans are passed through untimed (their time is spent by the reader between pages).

import { storeFaultOf, type Store } from '../storage/index.js';
import type { ServiceMetrics } from './service-metrics.js';

const UNTIMED = new Set(['scanItems', 'close', 'kind', 'replication']);

export function measuredStore(store: Store, metrics: ServiceMetrics): Store {
  return new Proxy(store, {
    get(target, property) {
      // The target as receiver: its getters may read private fields, which a Proxy does not have.
      const value: unknown = Reflect.get(target, property, target);
      if (typeof property !== 'string' || typeof value !== 'function' || UNTIMED.has(property)) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        const started = performance.now();
        const done = (error: unknown): void =>
          metrics.storeCall(property, (performance.now() - started) / 1000, error === undefined ? null : storeFaultOf(error), error !== undefined);
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          done(error);
          throw error;
        }
        if (!(result instanceof Promise)) {
          done(undefined);
          return result;
        }
        return result.then(
          (answer: unknown) => {
            done(undefined);
            return answer;
          },
          (error: unknown) => {
            done(error);
            throw error;
          },
        );
      };
    },
  });
}
