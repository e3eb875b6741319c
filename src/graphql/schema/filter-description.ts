// The description every filter argument carries: generated from the operator table that
// implements the filters (service/input/metadata-filter.ts), so the schema never lists an
// operator the service does not know, nor misses one it does.

import { describeFilterOperators } from '../../service/index.js';

export const FILTER_DESCRIPTION = describeFilterOperators();
