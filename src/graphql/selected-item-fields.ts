// Which item payload fields (vector, contents, metadata) a query selected under the field being
// resolved, so the service fetches and decrypts exactly those. Shared by every field that returns
// items or hits (search, searchBatch, items, and later ones): one rule for the whole API.
//
// The walk uses @graphql-tools/utils' collectSubFields, the same field collection graphql-js
// executes with: fragments, inline fragments, type conditions on the result unions, aliases and
// @skip/@include with their variables are honoured exactly as execution will honour them.

import { collectSubFields } from '@graphql-tools/utils';
import {
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  getNamedType,
  isAbstractType,
  isObjectType,
} from 'graphql';
import type { ItemField } from '../service/index.js';

/** GraphQL field name on an item-carrying type → the payload field the service fetches for it. */
const PAYLOAD_FIELDS: ReadonlyMap<string, ItemField> = new Map([
  ['vector', 'vector'],
  ['contents', 'contents'],
  ['metadata', 'metadata'],
]);

/**
 * The payload fields selected on any object of type `itemType` (e.g. 'SearchHit', 'Item') anywhere
 * below the field `info` is resolving, in a stable order. Empty when only ids, distances or
 * errors are selected.
 */
export function selectedItemFields(info: GraphQLResolveInfo, itemType: string): ItemField[] {
  const found = new Set<ItemField>();
  collectBelow(info, getNamedType(info.returnType), [...info.fieldNodes], itemType, found);
  return [...PAYLOAD_FIELDS.values()].filter((field) => found.has(field));
}

function collectBelow(info: GraphQLResolveInfo, type: GraphQLNamedType, nodes: FieldNode[], itemType: string, found: Set<ItemField>): void {
  // A union or interface (the `<Field>Result` unions) is walked once per member it could be.
  const objectTypes: readonly GraphQLObjectType[] = isAbstractType(type) ? info.schema.getPossibleTypes(type) : isObjectType(type) ? [type] : [];
  for (const objectType of objectTypes) {
    const { fields } = collectSubFields(info.schema, info.fragments, info.variableValues, objectType, nodes);
    // Keys are response names (aliases); the field name is on the nodes.
    for (const fieldNodes of fields.values()) {
      const name = fieldNodes[0]!.name.value;
      if (objectType.name === itemType) {
        const payload = PAYLOAD_FIELDS.get(name);
        if (payload !== undefined) found.add(payload);
        continue;
      }
      const field = objectType.getFields()[name];
      if (field !== undefined) collectBelow(info, getNamedType(field.type), fieldNodes, itemType, found);
    }
  }
}
