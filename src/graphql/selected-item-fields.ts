// Which item payload fields (vector, contents, metadata) a query selected under the field being
// resolved, so the service fetches and decrypts exactly those. Shared by every field that returns
// items or hits (search, searchBatch, items, and later ones): one rule for the whole API.
//
// The walk uses @graphql-tools/utils' collectSubFields, the same field collection graphql-js
// executes with: fragments, inline fragments, type conditions on the result unions, aliases and
// @skip/@include with their variables are honoured exactly as execution will honour them.

import { collectSubFields } from '@graphql-tools/utils';
import {
  type DirectiveNode,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  getNamedType,
  isAbstractType,
  isObjectType,
  type OperationDefinitionNode,
  visit,
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
  // Without @skip or @include the answer depends on the document alone, which the server's parser
  // cache hands out as the same objects for the same query text: walked once, not every search
  // (the walk was 5% of a search's time on the serving thread).
  const memoized = !hasConditions(info);
  const entries = memoized ? (walked.get(info.fieldNodes[0]!) ?? []) : [];
  const known = entries.find((entry) => entry.itemType === itemType && sameNodes(entry.nodes, info.fieldNodes));
  if (known !== undefined) return [...known.fields];
  const found = new Set<ItemField>();
  collectBelow(info, getNamedType(info.returnType), [...info.fieldNodes], itemType, found);
  const fields = [...PAYLOAD_FIELDS.values()].filter((field) => found.has(field));
  if (memoized) walked.set(info.fieldNodes[0]!, [...entries, { nodes: info.fieldNodes, itemType, fields }]);
  return [...fields];
}

/** Walks done, by the first node of the field walked from; a document that goes away takes its entries. */
const walked = new WeakMap<FieldNode, { nodes: readonly FieldNode[]; itemType: string; fields: ItemField[] }[]>();
/** Whether an operation, or a fragment of its document, carries @skip or @include (their variables decide the selection). */
const conditional = new WeakMap<OperationDefinitionNode, boolean>();

function hasConditions(info: GraphQLResolveInfo): boolean {
  let known = conditional.get(info.operation);
  if (known === undefined) {
    known = false;
    const look = {
      Directive(node: DirectiveNode): void {
        if (node.name.value === 'skip' || node.name.value === 'include') known = true;
      },
    };
    visit(info.operation, look);
    for (const fragment of Object.values(info.fragments)) visit(fragment, look);
    conditional.set(info.operation, known);
  }
  return known;
}

function sameNodes(a: readonly FieldNode[], b: readonly FieldNode[]): boolean {
  return a.length === b.length && a.every((node, i) => node === b[i]);
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
