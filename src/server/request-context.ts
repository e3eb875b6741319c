// The request a piece of server work belongs to, carried through its async continuations
// (AsyncLocalStorage), so a log line written deep inside (a masked error, a store fault) names the
// request id its response carries, without threading it through every call.

import { AsyncLocalStorage } from 'node:async_hooks';

interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Marks the rest of the current async flow (an HTTP request, a WebSocket operation) as `requestId`'s. */
export function enterRequest(requestId: string): void {
  storage.enterWith({ requestId });
}

export function currentRequestId(): string | undefined {
  return storage.getStore()?.requestId;
}
