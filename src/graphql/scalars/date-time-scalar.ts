// The DateTime scalar: graphql-scalars' RFC 3339 date-time, serialized as an ISO 8601 UTC string.

import { GraphQLScalarType } from 'graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  ...(GraphQLDateTimeISO.toConfig() as ConstructorParameters<typeof GraphQLScalarType<Date, string>>[0]),
  name: 'DateTime',
  description: 'A date-time in RFC 3339 form, returned as an ISO 8601 UTC string such as 2025-01-31T12:00:00.000Z.',
});
