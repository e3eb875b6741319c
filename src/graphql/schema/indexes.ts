// Indexes: their description, the Metric and IndexType enums, and listing, opening, creating
// and deleting an index.

import { DEFAULT_INDEX_TYPE, INDEX_TYPES, IndexAlreadyExistsError, METRICS, TEXT_LANGUAGES, ValidationError } from '../../service/index.js';
import type { IndexInfo } from '../../service/index.js';
import { builder } from '../builder.js';
import { enumValuesOf } from './enum-values.js';
import { indexAccessErrors } from './errors.js';
import { TrainingRunRef } from './training.js';

export const MetricEnum = builder.enumType('Metric', {
  values: enumValuesOf(METRICS, {
    euclidean: undefined,
    squared_euclidean: undefined,
    cosine: 'Cosine distance (1 - cosine similarity).',
  }),
});

export const IndexTypeEnum = builder.enumType('IndexType', {
  values: enumValuesOf(INDEX_TYPES, {
    ivf_flat: 'Inverted file of lists holding full float32 vectors: the fastest, the most memory.',
    ivf_sq8: 'Lists hold one byte per dimension (ranges trained with the centroids); searches re-rank the best rerankMult x topK on the exact vectors.',
    ivf_pq: 'Lists hold product-quantizer codes (pqSubvectors bytes per vector, codebooks trained on a sample); searches re-rank like IVF_SQ8.',
  }),
});

export const TextLanguageEnum = builder.enumType('TextLanguage', {
  description: 'Stop words and Snowball stemming of a text-search index.',
  values: enumValuesOf(TEXT_LANGUAGES),
});

export const IndexRef = builder.objectRef<IndexInfo>('Index').implement({
  description: 'An encrypted vector index, as seen by a holder of its key.',
  fields: (t) => ({
    name: t.exposeString('name'),
    dimension: t.exposeInt('dimension'),
    metric: t.field({ type: MetricEnum, resolve: (index) => index.metric }),
    type: t.field({ type: IndexTypeEnum, resolve: (index) => index.type }),
    nLists: t.exposeInt('nLists', {
      nullable: true,
      description: 'Lists of the trained model, else the configured value, else null (chosen when training).',
    }),
    pqSubvectors: t.exposeInt('pqSubvectors', { nullable: true, description: 'IVF_PQ: pieces each vector is coded in; null for the other types.' }),
    pqBits: t.exposeInt('pqBits', { nullable: true, description: "IVF_PQ: bits of each piece's code; null for the other types." }),
    vectorCount: t.exposeInt('vectorCount'),
    residentBytes: t.exposeFloat('residentBytes', {
      description: "Bytes the engine holds for the index (lists, codes, centroids, codec), measured; the service's item records are not counted.",
    }),
    bytesPerVector: t.exposeFloat('bytesPerVector', { nullable: true, description: 'residentBytes per vector; null while the index is empty.' }),
    isTrained: t.exposeBoolean('isTrained'),
    isTraining: t.exposeBoolean('isTraining'),
    lastTrainingRun: t.field({ type: TrainingRunRef, nullable: true, resolve: (index) => index.lastTrainingRun }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    textSearch: t.exposeBoolean('textSearch', { description: 'Keyword (BM25) search over contents and textFields; fixed at creation.' }),
    textFields: t.exposeStringList('textFields', { description: 'Dotted metadata paths indexed for keyword search beside the contents.' }),
    textLanguage: t.field({
      type: TextLanguageEnum,
      nullable: true,
      description: 'Language of the keyword index; null without textSearch.',
      resolve: (index) => index.textLanguage,
    }),
  }),
});

const DeleteIndexSuccessRef = builder.objectRef<{ name: string }>('DeleteIndexSuccess').implement({
  fields: (t) => ({ name: t.exposeString('name', { description: 'The index that no longer exists.' }) }),
});

builder.queryField('indexes', (t) =>
  t.stringList({
    description: 'Names of all indexes. Names are not secret; everything inside an index is.',
    resolve: (_root, _args, { service }) => service.listIndexes(),
  }),
);

builder.queryField('index', (t) =>
  t.field({
    type: IndexRef,
    errors: { types: indexAccessErrors },
    args: {
      name: t.arg.string({ required: true }),
      key: t.arg({ type: 'IndexKey', required: true }),
    },
    resolve: (_root, args, { service }) => service.describeIndex(args.name, args.key),
  }),
);

builder.mutationField('createIndex', (t) =>
  t.field({
    type: IndexRef,
    description: 'Creates an empty index sealed under `key`. Keep the key: nothing can open the index without it.',
    errors: { types: [ValidationError, IndexAlreadyExistsError] },
    args: {
      name: t.arg.string({ required: true }),
      key: t.arg({ type: 'IndexKey', required: true }),
      dimension: t.arg.int({ required: true }),
      metric: t.arg({ type: MetricEnum, defaultValue: 'euclidean' }),
      type: t.arg({ type: IndexTypeEnum, defaultValue: DEFAULT_INDEX_TYPE }),
      nLists: t.arg.int({ description: 'Lists to train into; chosen from the vector count at training time when absent.' }),
      pqSubvectors: t.arg.int({ description: 'IVF_PQ only: pieces per vector, dividing the dimension; pieces of at most 8 dimensions when absent.' }),
      pqBits: t.arg.int({ description: "IVF_PQ only: bits of each piece's code, 1 to 8 (default 8; a code takes one byte whatever its bits)." }),
      textSearch: t.arg.boolean({
        defaultValue: false,
        description: 'Also index contents (and textFields) for keyword search; the term index lives only in memory.',
      }),
      textFields: t.arg.stringList({ description: 'Dotted metadata paths whose strings are indexed beside the contents (needs textSearch).' }),
      textLanguage: t.arg({ type: TextLanguageEnum, description: 'Stop words and stemming; english when absent (needs textSearch).' }),
    },
    resolve: (_root, args, { service }) =>
      service.createIndex(args.name, args.key, {
        dimension: args.dimension,
        metric: args.metric ?? undefined,
        type: args.type ?? undefined,
        nLists: args.nLists ?? undefined,
        pqSubvectors: args.pqSubvectors ?? undefined,
        pqBits: args.pqBits ?? undefined,
        textSearch: args.textSearch ?? undefined,
        textFields: args.textFields ?? undefined,
        textLanguage: args.textLanguage ?? undefined,
      }),
  }),
);

builder.mutationField('rotateIndexKey', (t) =>
  t.field({
    type: IndexRef,
    description:
      'Moves the index to `newKey`: its data key is re-wrapped in one transaction (nothing else is re-encrypted, so it is fast at any size). From then on `key` opens it nowhere, on no replica.',
    errors: { types: indexAccessErrors },
    args: {
      name: t.arg.string({ required: true }),
      key: t.arg({ type: 'IndexKey', required: true, description: 'The key that opens the index now.' }),
      newKey: t.arg({ type: 'IndexKey', required: true, description: 'The key that will open it instead (npx cipherdex keygen).' }),
    },
    resolve: (_root, args, { service }) => service.rotateIndexKey(args.name, args.key, args.newKey),
  }),
);

builder.mutationField('deleteIndex', (t) =>
  t.field({
    type: DeleteIndexSuccessRef,
    description: 'Deletes the index and everything in it (a run in progress ends CANCELLED). Needs its key.',
    errors: { types: indexAccessErrors },
    args: {
      name: t.arg.string({ required: true }),
      key: t.arg({ type: 'IndexKey', required: true }),
    },
    resolve: async (_root, args, { service }) => {
      await service.deleteIndex(args.name, args.key);
      return { name: args.name };
    },
  }),
);
