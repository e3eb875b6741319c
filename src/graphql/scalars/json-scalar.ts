// The JSON scalar of the contract. Every JSON value in this API (item metadata, search filters)
// is an object, so it is graphql-scalars' JSONObject under the contract's name: arrays and bare
// values are rejected at the edge instead of reaching the service.

import { GraphQLScalarType } from 'graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import type { JsonObject } from '../../service/index.js';

export const JsonScalar = new GraphQLScalarType<JsonObject, JsonObject>({
  ...(GraphQLJSONObject.toConfig() as ConstructorParameters<typeof GraphQLScalarType<JsonObject, JsonObject>>[0]),
  name: 'JSON',
  description: 'A JSON object (item metadata, MongoDB-style search filters).',
  specifiedByURL: undefined,
});
