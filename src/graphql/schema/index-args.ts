// The two arguments every index-scoped field after creation takes: which index, and its key.

import { builder } from '../builder.js';

export const indexArgs = builder.args((t) => ({
  index: t.string({ required: true, description: 'Index name.' }),
  key: t.field({ type: 'IndexKey', required: true, description: 'The index key it was created with.' }),
}));
