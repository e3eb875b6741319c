// The GraphQL documents the CLI sends and the shapes of their answers. Vectors always travel in
// variables in the compact base64 form, never inline, so query text stays small.

import { TERMINAL_PHASES, type ItemField as ServiceItemField, type JsonObject, type TrainingPhase, type TrainingTrigger } from '../../service/index.js';
import type { Result } from './typed-result.js';

// Phase and trigger names are the same in the schema as in the service.
export type { TrainingPhase };

export const FINAL_PHASES: ReadonlySet<TrainingPhase> = new Set(TERMINAL_PHASES);

export interface TrainingProgress {
  runId: string | null;
  index: string;
  trigger: TrainingTrigger | null;
  phase: TrainingPhase;
  iteration: number;
  maxIters: number;
  nLists: number;
  batchSize: number;
  tolerance: number;
  shift: number | null;
  inertia: number | null;
  converged: boolean;
  progress: number;
  elapsedMs: number;
  etaMs: number | null;
  vectorCount: number;
  startedAt: string | null;
  finishedAt: string | null;
  message: string | null;
}

export interface TrainingRun extends TrainingProgress {
  __typename: 'TrainingRun';
  runId: string;
}

export interface TrainingStatus extends TrainingProgress {
  __typename: 'TrainingStatus';
}

export interface IndexDescription {
  __typename: 'Index';
  name: string;
  dimension: number;
  metric: string;
  type: string;
  nLists: number | null;
  vectorCount: number;
  isTrained: boolean;
  isTraining: boolean;
  lastTrainingRun: Omit<TrainingRun, '__typename'> | null;
}

const PROGRESS_FIELDS = `runId index trigger phase iteration maxIters nLists batchSize tolerance shift inertia converged
  progress elapsedMs etaMs vectorCount startedAt finishedAt message`;
const INDEX_FIELDS = `name dimension metric type nLists vectorCount isTrained isTraining lastTrainingRun { ${PROGRESS_FIELDS} }`;
const ERROR_FIELDS = '... on Error { code message }';

export const INDEX_QUERY = `query CliIndex($index: String!, $key: IndexKey!) {
  index(name: $index, key: $key) { __typename ... on Index { ${INDEX_FIELDS} } ${ERROR_FIELDS} }
}`;
export interface IndexQueryData {
  index: Result<IndexDescription>;
}

export const ROTATE_INDEX_KEY_MUTATION = `mutation CliRotateIndexKey($index: String!, $key: IndexKey!, $newKey: IndexKey!) {
  rotateIndexKey(name: $index, key: $key, newKey: $newKey) { __typename ... on Index { ${INDEX_FIELDS} } ${ERROR_FIELDS} }
}`;
export interface RotateIndexKeyData {
  rotateIndexKey: Result<IndexDescription>;
}

export const CREATE_INDEX_MUTATION = `mutation CliCreateIndex($index: String!, $key: IndexKey!, $dimension: Int!, $metric: Metric, $nLists: Int) {
  createIndex(name: $index, key: $key, dimension: $dimension, metric: $metric, nLists: $nLists) {
    __typename ... on Index { ${INDEX_FIELDS} } ${ERROR_FIELDS}
  }
}`;
export interface CreateIndexData {
  createIndex: Result<IndexDescription>;
}

export interface ItemInput {
  id: string;
  /** base64 of little-endian float32 */
  vector: string;
  contents?: string | null;
  metadata?: JsonObject | null;
}

export const UPSERT_MUTATION = `mutation CliUpsert($index: String!, $key: IndexKey!, $items: [ItemInput!]!) {
  upsert(index: $index, key: $key, items: $items) {
    __typename ... on UpsertSuccess { upsertedCount index { vectorCount } } ${ERROR_FIELDS}
  }
}`;
export interface UpsertData {
  upsert: Result<{ __typename: 'UpsertSuccess'; upsertedCount: number; index: { vectorCount: number } }>;
}

export const TRAIN_INDEX_MUTATION = `mutation CliTrainIndex($index: String!, $key: IndexKey!, $nLists: Int, $batchSize: Int, $maxIters: Int,
    $tolerance: Float, $wait: Boolean) {
  trainIndex(index: $index, key: $key, nLists: $nLists, batchSize: $batchSize, maxIters: $maxIters, tolerance: $tolerance, wait: $wait) {
    __typename ... on TrainingRun { ${PROGRESS_FIELDS} } ${ERROR_FIELDS}
  }
}`;
export interface TrainIndexData {
  trainIndex: Result<TrainingRun>;
}

export const CANCEL_TRAINING_MUTATION = `mutation CliCancelTraining($index: String!, $key: IndexKey!) {
  cancelTraining(index: $index, key: $key) { __typename ... on TrainingRun { ${PROGRESS_FIELDS} } ${ERROR_FIELDS} }
}`;
export interface CancelTrainingData {
  cancelTraining: Result<TrainingRun>;
}

export const TRAINING_STATUS_SUBSCRIPTION = `subscription CliTrainingStatus($index: String!, $key: IndexKey!) {
  trainingStatus(index: $index, key: $key) { __typename ... on TrainingStatus { ${PROGRESS_FIELDS} } ${ERROR_FIELDS} }
}`;
export interface TrainingStatusData {
  trainingStatus: Result<TrainingStatus>;
}

export interface SearchHit {
  id: string;
  distance: number;
  contents?: string | null;
  metadata?: JsonObject | null;
  vector?: number[] | null;
}

export interface SearchResults {
  hits: SearchHit[];
  exact: boolean;
}

/** The ItemField enum's GraphQL names: the service's names in upper case. */
export type ItemField = Uppercase<ServiceItemField>;

// The server fetches what the selection asks for, so the optional fields are switched by @include.
export const SEARCH_BATCH_QUERY = `query CliSearchBatch($index: String!, $key: IndexKey!, $vectors: [Vector!]!, $topK: Int, $nProbes: Int,
    $filter: JSON, $withContents: Boolean!, $withMetadata: Boolean!, $withVector: Boolean!) {
  searchBatch(index: $index, key: $key, vectors: $vectors, topK: $topK, nProbes: $nProbes, filter: $filter) {
    __typename
    ... on SearchBatchResults { results { exact hits {
      id distance contents @include(if: $withContents) metadata @include(if: $withMetadata) vector @include(if: $withVector)
    } } }
    ${ERROR_FIELDS}
  }
}`;
export interface SearchBatchData {
  searchBatch: Result<{ __typename: 'SearchBatchResults'; results: SearchResults[] }>;
}

export const STATUS_QUERY = `query CliStatus {
  indexes
  trainingQueue { retrainThreshold autoTrainEnabled running { ${PROGRESS_FIELDS} } queued { ${PROGRESS_FIELDS} } }
}`;
export interface StatusData {
  indexes: string[];
  trainingQueue: {
    retrainThreshold: number;
    autoTrainEnabled: boolean;
    running: Omit<TrainingRun, '__typename'>[];
    queued: Omit<TrainingRun, '__typename'>[];
  };
}

const GRANT_FIELDS = 'id label permissions expiresAt createdAt lastUsedAt';

export interface GrantDescription {
  __typename: 'IndexGrant';
  id: string;
  label: string | null;
  permissions: string[];
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  token?: string | null;
}

export const CREATE_GRANT_MUTATION = `mutation CliCreateGrant($index: String!, $key: IndexKey!, $permissions: [Permission!]!, $expiresAt: DateTime, $label: String) {
  createIndexGrant(index: $index, key: $key, permissions: $permissions, expiresAt: $expiresAt, label: $label) { __typename ... on IndexGrant { ${GRANT_FIELDS} token } ${ERROR_FIELDS} }
}`;
export interface CreateGrantData {
  createIndexGrant: Result<GrantDescription>;
}

export const LIST_GRANTS_QUERY = `query CliGrants($index: String!, $key: IndexKey!) {
  indexGrants(index: $index, key: $key) { __typename ... on QueryIndexGrantsSuccess { data { ${GRANT_FIELDS} } } ${ERROR_FIELDS} }
}`;
export interface ListGrantsData {
  indexGrants: Result<{ __typename: 'QueryIndexGrantsSuccess'; data: GrantDescription[] }>;
}

export const REVOKE_GRANT_MUTATION = `mutation CliRevokeGrant($index: String!, $key: IndexKey!, $grantId: ID!) {
  revokeIndexGrant(index: $index, key: $key, grantId: $grantId) { __typename ... on IndexGrant { ${GRANT_FIELDS} } ${ERROR_FIELDS} }
}`;
export interface RevokeGrantData {
  revokeIndexGrant: Result<GrantDescription>;
}
