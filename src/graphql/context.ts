// What every resolver receives: the domain service (its only way into the domain) and the
// facts about the running server that the health field reports.

import type { IndexService, StoreKind } from '../service/index.js';

export interface ServerInfo {
  version: string;
  /** Epoch milliseconds when the server started. */
  startedAt: number;
  store: StoreKind;
}

export interface GraphQLContext {
  service: IndexService;
  server: ServerInfo;
}
