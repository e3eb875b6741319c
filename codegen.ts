// GraphQL code generation: prints schema/schema.graphql from the Pothos schema, and generates
// typed documents for the operations in schema/operations/ (used by the tests and clients).
// `npm run schema` writes both; `npx graphql-codegen --check` fails when either is stale.

import type { CodegenConfig } from '@graphql-codegen/cli';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './src/graphql/schema/index.js';

// The SDL is printed in-process (sorted, like the staleness test) so codegen never has to load
// TypeScript schema modules itself.
const sdl = printSchema(lexicographicSortSchema(schema));

const config: CodegenConfig = {
  schema: sdl,
  documents: ['schema/operations/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'schema/schema.graphql': {
      plugins: ['schema-ast'],
      config: { includeDirectives: false, sort: true },
    },
    'test/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: {
        importExtension: '.js',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: {
          IndexKey: { input: 'string', output: 'never' },
          Vector: { input: 'number[] | string', output: 'number[]' },
          JSON: { input: 'Record<string, unknown>', output: 'Record<string, unknown>' },
          DateTime: { input: 'string', output: 'string' },
          ID: { input: 'string', output: 'string' },
        },
      },
    },
  },
};

export default config;
