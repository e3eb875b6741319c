// Liveness of the API itself: the one query field that answers without an API key (the auth
// plugin lets an operation through when it selects nothing else).

import { STORE_KINDS, type StoreKind } from '../../service/index.js';
import { builder } from '../builder.js';

interface Health {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  store: StoreKind;
  storeReachable: boolean;
}

const HealthRef = builder.objectRef<Health>('Health').implement({
  fields: (t) => ({
    status: t.exposeString('status', { description: 'ok, or degraded when the store does not answer.' }),
    version: t.exposeString('version'),
    uptimeSeconds: t.exposeFloat('uptimeSeconds'),
    store: t.exposeString('store', { description: `${STORE_KINDS.join(' or ')}.` }),
    storeReachable: t.exposeBoolean('storeReachable'),
  }),
});

builder.queryField('health', (t) =>
  t.field({
    type: HealthRef,
    resolve: async (_root, _args, { service, server }): Promise<Health> => {
      const storeReachable = await service.ping();
      return {
        status: storeReachable ? 'ok' : 'degraded',
        version: server.version,
        uptimeSeconds: (Date.now() - server.startedAt) / 1000,
        store: server.store,
        storeReachable,
      };
    },
  }),
);
