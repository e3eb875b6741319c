// The Permission enum of index grants, shared by the grant fields and PermissionDeniedError.

import { PERMISSIONS } from '../../service/index.js';
import { builder } from '../builder.js';
import { enumValuesOf } from './enum-values.js';

export const PermissionEnum = builder.enumType('Permission', {
  description: 'What an index grant may do. The index key itself may do everything.',
  values: enumValuesOf(PERMISSIONS, {
    READ: 'search, searchBatch, items, itemIds, browse, count and index.',
    WRITE: 'upsert, updateItems and deleteItems.',
    TRAIN: 'trainIndex and cancelTraining.',
    OBSERVE: 'trainingStatus, indexStats, trainingRuns, trainingRun and index.',
    ADMIN: 'Everything, including grants, key rotation and deleteIndex.',
  }),
});
