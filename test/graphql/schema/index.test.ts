import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import {
  astFromValue,
  type GraphQLField,
  type GraphQLObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  lexicographicSortSchema,
  parse,
  print,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../../src/graphql/schema/index.js';

const root = new URL('../../../', import.meta.url);

// The fixed part of the public contract (issue 4, with issue 15's text search: a query may be a
// text alone, so the vector arguments became optional; and issue 14's additions: search near an
// item, delete by filter, browse, count, paged itemIds, updateItems; and issue 16's grants), verbatim: names, argument
// types and defaults.
const CONTRACT = /* GraphQL */ `
  type Query {
    health: Health!
    indexes: [String!]!
    index(name: String!, key: IndexKey!): IndexResult!
    search(index: String!, key: IndexKey!, vector: Vector, topK: Int = 10, nProbes: Int,
           filter: JSON, include: [ItemField!], text: String, alpha: Float = 0.5, fusion: Fusion = RRF,
           maxDistance: Float, exact: Boolean, nearItem: ID): SearchResult!
    searchBatch(index: String!, key: IndexKey!, vectors: [Vector!], topK: Int = 10, nProbes: Int,
           filter: JSON, include: [ItemField!], texts: [String], alpha: Float = 0.5, fusion: Fusion = RRF,
           maxDistance: Float, exact: Boolean, nearItem: ID): SearchBatchResult!
    items(index: String!, key: IndexKey!, ids: [ID!]!, include: [ItemField!]): ItemsResult!
    itemIds(index: String!, key: IndexKey!, first: Int, after: String): ItemIdsResult!
    browse(index: String!, key: IndexKey!, filter: JSON, first: Int = 100, after: String, include: [ItemField!]): BrowseResult!
    count(index: String!, key: IndexKey!, filter: JSON): CountResult!
    indexGrants(index: String!, key: IndexKey!): IndexGrantsResult!
    trainingQueue: TrainingQueue!
  }
  type Mutation {
    createIndex(name: String!, key: IndexKey!, dimension: Int!, metric: Metric = EUCLIDEAN,
                type: IndexType = IVF_SQ8, nLists: Int, textSearch: Boolean = false, textFields: [String!],
                textLanguage: TextLanguage): CreateIndexResult!
    deleteIndex(name: String!, key: IndexKey!): DeleteIndexResult!
    upsert(index: String!, key: IndexKey!, items: [ItemInput!]!): UpsertResult!
    deleteItems(index: String!, key: IndexKey!, ids: [ID!], filter: JSON): DeleteItemsResult!
    updateItems(index: String!, key: IndexKey!, ids: [ID!]!, metadata: JSON, contents: String): UpdateItemsResult!
    trainIndex(index: String!, key: IndexKey!, nLists: Int, batchSize: Int, maxIters: Int,
               tolerance: Float, wait: Boolean = false): TrainIndexResult!
    cancelTraining(index: String!, key: IndexKey!): CancelTrainingResult!
    createIndexGrant(index: String!, key: IndexKey!, permissions: [Permission!]!, expiresAt: DateTime, label: String): CreateIndexGrantResult!
    revokeIndexGrant(index: String!, key: IndexKey!, grantId: ID!): RevokeIndexGrantResult!
  }
  type Subscription {
    trainingStatus(index: String!, key: IndexKey!): TrainingStatusResult!
  }
  type Index { textSearch: Boolean!, textFields: [String!]!, textLanguage: TextLanguage }
  type SearchHit { id: ID!, distance: Float, score: Float, textScore: Float }
  type ItemConnection { edges: [ItemEdge!]! pageInfo: PageInfo! }
  type ItemEdge { cursor: String! node: Item }
  type PageInfo { endCursor: String hasNextPage: Boolean! }
  type ItemCount { count: Int! }
  type DeleteItemsSuccess { deletedCount: Int! }
  type UpdateItemsSuccess { updatedCount: Int! }
  input ItemInput { id: ID!, vector: Vector!, contents: String, metadata: JSON }
  type IndexGrant { id: ID! label: String permissions: [Permission!]! expiresAt: DateTime createdAt: DateTime! token: String }
  type PermissionDeniedError { required: [Permission!]! }
  enum Permission { READ WRITE TRAIN OBSERVE ADMIN }
  enum Fusion { RRF RELATIVE_SCORE }
  enum Metric { EUCLIDEAN SQUARED_EUCLIDEAN COSINE }
  enum ItemField { VECTOR CONTENTS METADATA }
  enum TrainingPhase { IDLE QUEUED INITIALIZING ITERATING ASSIGNING PERSISTING COMPLETED FAILED CANCELLED }
`;

const SUCCESS_MEMBER: Record<string, string> = {
  IndexResult: 'Index',
  SearchResult: 'SearchResults',
  SearchBatchResult: 'SearchBatchResults',
  ItemsResult: 'ItemList',
  ItemIdsResult: 'ItemIdList',
  CreateIndexResult: 'Index',
  DeleteIndexResult: 'DeleteIndexSuccess',
  UpsertResult: 'UpsertSuccess',
  DeleteItemsResult: 'DeleteItemsSuccess',
  UpdateItemsResult: 'UpdateItemsSuccess',
  BrowseResult: 'ItemConnection',
  CountResult: 'ItemCount',
  TrainIndexResult: 'TrainingRun',
  CancelTrainingResult: 'TrainingRun',
  TrainingStatusResult: 'TrainingStatus',
  IndexGrantsResult: 'QueryIndexGrantsSuccess',
  CreateIndexGrantResult: 'IndexGrant',
  RevokeIndexGrantResult: 'IndexGrant',
};

const ERROR_TYPES = [
  'ValidationError',
  'IndexNotFoundError',
  'IndexAlreadyExistsError',
  'InvalidIndexKeyError',
  'DimensionMismatchError',
  'InsufficientVectorsError',
  'IncompatibleIndexError',
  'TrainingInProgressError',
  'TrainingNotRunningError',
  'TrainingRunNotFoundError',
  'InsufficientResourcesError',
  'ConvergenceError',
  'IntegrityError',
  'ItemsNotFoundError',
  'PermissionDeniedError',
  'GrantNotFoundError',
];

const printed = printSchema(lexicographicSortSchema(schema));

describe('schema', () => {
  it('matches the committed schema/schema.graphql (run `npm run schema` after changing it)', async () => {
    const committed = await readFile(new URL('schema/schema.graphql', root), 'utf8');
    expect(committed.trimEnd()).toBe(printed.trimEnd());
  });

  it('has generated documents and possibleTypes that are up to date (graphql-codegen --check)', async () => {
    const bin = new URL('node_modules/.bin/graphql-codegen', root).pathname;
    await expect(promisify(execFile)(bin, ['--config', 'codegen.ts', '--check'], { cwd: root.pathname })).resolves.toBeDefined();
  });

  it('keeps every field, argument, default and enum value of the contract', () => {
    for (const definition of parse(CONTRACT).definitions) {
      if (definition.kind === Kind.OBJECT_TYPE_DEFINITION) {
        const type = schema.getType(definition.name.value) as GraphQLObjectType;
        for (const field of definition.fields ?? []) {
          const actual: GraphQLField<unknown, unknown> | undefined = type.getFields()[field.name.value];
          expect(actual, `${type.name}.${field.name.value}`).toBeDefined();
          expect(String(actual!.type), `${type.name}.${field.name.value}`).toBe(print(field.type));
          for (const arg of field.arguments ?? []) {
            const actualArg = actual!.args.find((a) => a.name === arg.name.value);
            expect(actualArg, `${type.name}.${field.name.value}(${arg.name.value})`).toBeDefined();
            expect(String(actualArg!.type)).toBe(print(arg.type));
            const defaultValue = actualArg!.defaultValue === undefined ? null : astFromValue(actualArg!.defaultValue, actualArg!.type);
            expect(defaultValue ? print(defaultValue) : undefined, `default of ${arg.name.value}`).toBe(
              arg.defaultValue ? print(arg.defaultValue) : undefined,
            );
          }
        }
      } else if (definition.kind === Kind.ENUM_TYPE_DEFINITION) {
        const values = printed.match(new RegExp(`enum ${definition.name.value} \\{([^}]*)\\}`))![1];
        for (const value of definition.values ?? []) expect(values).toMatch(new RegExp(`\\b${value.name.value}\\b`));
      } else if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
        const fields = (schema.getType(definition.name.value) as import('graphql').GraphQLInputObjectType).getFields();
        for (const field of definition.fields ?? []) expect(String(fields[field.name.value]?.type)).toBe(print(field.type));
      }
    }
  });

  it('returns each result union as its success type plus typed errors only', () => {
    for (const [unionName, success] of Object.entries(SUCCESS_MEMBER)) {
      const union = schema.getType(unionName);
      expect(isUnionType(union), unionName).toBe(true);
      if (!isUnionType(union)) continue;
      const members = union.getTypes().map((t) => t.name);
      expect(members).toContain(success);
      for (const member of members.filter((name) => name !== success)) expect(ERROR_TYPES).toContain(member);
    }
  });

  it('has one object type per domain error class, each implementing Error { code message }', () => {
    const errorInterface = schema.getType('Error');
    expect(isInterfaceType(errorInterface)).toBe(true);
    for (const name of ERROR_TYPES) {
      const type = schema.getType(name);
      expect(isObjectType(type), name).toBe(true);
      if (!isObjectType(type)) continue;
      expect(type.getInterfaces().map((i) => i.name)).toContain('Error');
      expect(String(type.getFields().code.type)).toBe('String!');
      expect(String(type.getFields().message.type)).toBe('String!');
    }
    expect(schema.getImplementations(errorInterface as import('graphql').GraphQLInterfaceType).objects.map((t) => t.name).sort()).toEqual(
      [...ERROR_TYPES].sort(),
    );
  });

  it('carries the documented error fields', () => {
    const fieldsOf = (name: string) => Object.keys((schema.getType(name) as GraphQLObjectType).getFields());
    expect(fieldsOf('ValidationError')).toEqual(expect.arrayContaining(['argument', 'min', 'max', 'allowed']));
    expect(fieldsOf('DimensionMismatchError')).toEqual(expect.arrayContaining(['expected', 'actual']));
    expect(fieldsOf('InsufficientVectorsError')).toEqual(expect.arrayContaining(['required', 'actual']));
  });

  it('gives runs and status events every documented training field', () => {
    const documented =
      'runId index trigger phase iteration maxIters nLists batchSize tolerance shift inertia converged progress elapsedMs etaMs vectorCount startedAt finishedAt message'.split(
        ' ',
      );
    for (const name of ['TrainingRun', 'TrainingStatus']) {
      expect(Object.keys((schema.getType(name) as GraphQLObjectType).getFields())).toEqual(expect.arrayContaining(documented));
    }
  });
});
