// Items: the vectors with their contents and metadata; upserting, reading, listing and
// deleting them. A read fetches and decrypts the payload fields its selection set asks for
// (selected-item-fields.ts); the ItemField enum remains for the deprecated `include` argument.

import { DimensionMismatchError, ITEM_FIELDS } from '../../service/index.js';
import type { IndexInfo, Item } from '../../service/index.js';
import { builder } from '../builder.js';
import { enumValuesOf } from './enum-values.js';
import { selectedItemFields } from '../selected-item-fields.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';
import { IndexRef } from './indexes.js';

export const ItemFieldEnum = builder.enumType('ItemField', {
  description: 'A payload field of an item (for the deprecated `include` argument).',
  values: enumValuesOf(ITEM_FIELDS, { vector: undefined, contents: undefined, metadata: undefined }),
});

/**
 * The rule when `include` and the selection disagree: the selection wins, always. `include` is
 * read by no resolver; a field is fetched exactly when it is selected, so a selected field is
 * never null for want of being included, and an included but unselected one costs nothing.
 */
export const INCLUDE_DEPRECATION =
  'The selection set decides what is fetched: a field is returned, fetched and decrypted exactly when it is selected. include is ignored (also when it disagrees with the selection) and will be removed in the next release.';

export const deprecatedIncludeArgs = builder.args((t) => ({
  include: t.field({ type: [ItemFieldEnum], deprecationReason: INCLUDE_DEPRECATION, description: 'Deprecated: select the fields instead.' }),
}));

const ITEM = 'Item';

export const ItemRef = builder.objectRef<Item>(ITEM).implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    vector: t.expose('vector', { type: 'Vector', nullable: true, description: 'Fetched and decrypted only when selected.' }),
    contents: t.exposeString('contents', { nullable: true, description: 'Null when the item has none. Fetched and decrypted only when selected.' }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true, description: 'Null when the item has none. Fetched and decrypted only when selected.' }),
  }),
});

export const ItemInputRef = builder.inputType('ItemInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    vector: t.field({ type: 'Vector', required: true }),
    contents: t.string(),
    metadata: t.field({ type: 'JSON' }),
  }),
});

const ItemListRef = builder.objectRef<{ items: Item[] }>('ItemList').implement({
  fields: (t) => ({ items: t.field({ type: [ItemRef], resolve: (list) => list.items }) }),
});

const ItemIdListRef = builder.objectRef<{ ids: string[] }>('ItemIdList').implement({
  fields: (t) => ({ ids: t.exposeIDList('ids') }),
});

const UpsertSuccessRef = builder.objectRef<{ upsertedCount: number; index: IndexInfo }>('UpsertSuccess').implement({
  fields: (t) => ({
    upsertedCount: t.exposeInt('upsertedCount'),
    index: t.field({ type: IndexRef, description: 'The index after the upsert.', resolve: (result) => result.index }),
  }),
});

const DeleteItemsSuccessRef = builder.objectRef<{ deletedCount: number }>('DeleteItemsSuccess').implement({
  fields: (t) => ({ deletedCount: t.exposeInt('deletedCount', { description: 'Ids that existed and were deleted.' }) }),
});

builder.queryField('items', (t) =>
  t.field({
    type: ItemListRef,
    description: 'Items by id, in the order asked; unknown ids are left out.',
    errors: { types: indexAccessErrors },
    args: {
      ...indexArgs,
      ids: t.arg.idList({ required: true }),
      ...deprecatedIncludeArgs,
    },
    resolve: async (_root, args, { service }, info) => ({
      items: await service.get(args.index, args.key, args.ids.map(String), selectedItemFields(info, ITEM)),
    }),
  }),
);

builder.queryField('itemIds', (t) =>
  t.field({
    type: ItemIdListRef,
    errors: { types: indexAccessErrors },
    args: indexArgs,
    resolve: async (_root, args, { service }) => ({ ids: await service.listIds(args.index, args.key) }),
  }),
);

builder.mutationField('upsert', (t) =>
  t.field({
    type: UpsertSuccessRef,
    description: 'Inserts or replaces items, all or nothing, durable when it answers. Never waits for training.',
    errors: { types: [...indexAccessErrors, DimensionMismatchError] },
    args: {
      ...indexArgs,
      items: t.arg({ type: [ItemInputRef], required: true }),
    },
    resolve: (_root, args, { service }) =>
      service.upsert(
        args.index,
        args.key,
        args.items.map((item) => ({ id: String(item.id), vector: item.vector, contents: item.contents, metadata: item.metadata })),
      ),
  }),
);

builder.mutationField('deleteItems', (t) =>
  t.field({
    type: DeleteItemsSuccessRef,
    errors: { types: indexAccessErrors },
    args: {
      ...indexArgs,
      ids: t.arg.idList({ required: true }),
    },
    resolve: (_root, args, { service }) => service.delete(args.index, args.key, args.ids.map(String)),
  }),
);
