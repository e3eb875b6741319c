// The Pothos schema builder shared by every schema module: context, scalars, non-null fields by
// default, and the errors plugin configured so each result union is named `<Field>Result` and
// holds the success type itself (no `data` wrapper) next to its typed errors.

import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import type { JsonObject } from '../service/index.js';
import type { GraphQLContext } from './context.js';
import { DateTimeScalar } from './scalars/date-time-scalar.js';
import { IndexKeyScalar } from './scalars/index-key-scalar.js';
import { JsonScalar } from './scalars/json-scalar.js';
import { VectorScalar } from './scalars/vector-scalar.js';

const capitalize = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: true;
  Scalars: {
    IndexKey: { Input: Uint8Array | string; Output: never };
    Vector: { Input: Float32Array | number[]; Output: ArrayLike<number> };
    JSON: { Input: JsonObject; Output: JsonObject };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [ErrorsPlugin, RelayPlugin],
  defaultFieldNullability: false,
  // Connections only (browse): no Node interface or node/nodes queries, since items are fetched by
  // id within an index and key, never by a global id.
  relay: {
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: true },
  },
  errors: {
    directResult: true,
    // Field names are unique across Query, Mutation and Subscription, so `index` -> `IndexResult`,
    // `trainIndex` -> `TrainIndexResult`, as the schema contract names them.
    defaultUnionOptions: { name: ({ fieldName }) => `${capitalize(fieldName)}Result` },
  },
});

builder.addScalarType('IndexKey', IndexKeyScalar);
builder.addScalarType('Vector', VectorScalar);
builder.addScalarType('JSON', JsonScalar);
builder.addScalarType('DateTime', DateTimeScalar);

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
