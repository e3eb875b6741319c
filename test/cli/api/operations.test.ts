// The CLI's GraphQL documents are valid against the committed schema, so a renamed field or
// argument fails here rather than at a user's terminal.
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as operations from '../../../src/cli/api/operations.js';

const schema = buildSchema(readFileSync(new URL('../../../schema/schema.graphql', import.meta.url), 'utf8'));
const documents: [string, string][] = Object.entries(operations).flatMap(([name, value]: [string, unknown]) =>
  typeof value === 'string' ? [[name, value] as [string, string]] : [],
);

describe('CLI operations', () => {
  it('covers every request the CLI makes', () => {
    expect(documents.map(([name]) => name).sort()).toEqual(
      [
        'CANCEL_TRAINING_MUTATION',
        'CREATE_INDEX_MUTATION',
        'CREATE_GRANT_MUTATION',
        'INDEX_QUERY',
        'LIST_GRANTS_QUERY',
        'REVOKE_GRANT_MUTATION',
        'ROTATE_INDEX_KEY_MUTATION',
        'SEARCH_BATCH_QUERY',
        'STATUS_QUERY',
        'TRAINING_STATUS_SUBSCRIPTION',
        'TRAIN_INDEX_MUTATION',
        'UPSERT_MUTATION',
      ].sort(),
    );
  });

  it.each(documents)('%s validates against schema/schema.graphql', (_name, document) => {
    expect(validate(schema, parse(document)).map((error) => error.message)).toEqual([]);
  });
});
