// The whole GraphQL schema: importing each domain module registers its types and fields.

import { builder } from '../builder.js';
import './browse.js';
import './errors.js';
import './grants.js';
import './health.js';
import './indexes.js';
import './index-stats.js';
import './items.js';
import './search.js';
import './training.js';
import './training-history.js';

export const schema = builder.toSchema();
