// Items: the vectors with their contents and metadata; upserting, reading, listing and
// deleting them. A read fetches and decrypts the payload fields its selection set asks for
// (selected-item-fields.ts); the ItemField enum remains for the deprecated `include` argument.

import { DimensionMismatchError, ITEM_FIELDS, InsufficientResourcesError, ItemsNotFoundError } from '../../service/index.js';
import type { IndexInfo, Item } from '../../service/index.js';
import { builder } from '../builder.js';
import { enumValuesOf } from './enum-values.js';
import { selectedItemFields } from '../selected-item-fields.js';
import { ONLY_PAGE, pageInfoOf, type PageInfo } from './browse.js';
import { indexAccessErrors } from './errors.js';
import { FILTER_DESCRIPTION } from './filter-description.js';
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

export const ITEM = 'Item';

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

const ItemIdListRef = builder.objectRef<{ ids: string[]; pageInfo: PageInfo }>('ItemIdList').implement({
  fields: (t) => ({
    ids: t.exposeIDList('ids'),
    pageInfo: t.field({
      type: builder.pageInfoRef(),
      description: 'Where the next page starts; without first or after, every id is here and there is no next page.',
      resolve: (list) => list.pageInfo,
    }),
  }),
});

const UpdateItemsSuccessRef = builder.objectRef<{ updatedCount: number }>('UpdateItemsSuccess').implement({
  fields: (t) => ({ updatedCount: t.exposeInt('updatedCount') }),
});

const UpsertSuccessRef = builder.objectRef<{ upsertedCount: number; index: IndexInfo }>('UpsertSuccess').implement({
  fields: (t) => ({
    upsertedCount: t.exposeInt('upsertedCount'),
    index: t.field({ type: IndexRef, description: 'The index after the upsert.', resolve: (result) => result.index }),
  }),
});

/** The argument every write that takes it describes alike. */
const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes a retry of this write safe (1 to 256 characters of your choosing, e.g. a UUID per logical write). A retry with the same key and the same request answers the first attempt\'s result without writing again (also when the first answer was lost, e.g. STORE_UNAVAILABLE after the commit, and on any replica); the same key with another request is a ValidationError. Keys are kept per index for IDEMPOTENCY_RETENTION_HOURS (24 h).';

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
    description: 'Every id, sorted; with first or after, one page of ids in the order browse uses.',
    errors: { types: indexAccessErrors },
    args: {
      ...indexArgs,
      first: t.arg.int({ description: 'Ids per page, 1 to 1000 (100 when only after is given).' }),
      after: t.arg.string({ description: 'The endCursor of an earlier page (of itemIds or browse).' }),
    },
    resolve: async (_root, args, { service }) => {
      if (args.first == null && args.after == null) {
        return { ids: await service.listIds(args.index, args.key), pageInfo: ONLY_PAGE };
      }
      const page = await service.browse(args.index, args.key, { first: args.first, after: args.after, include: [] });
      return { ids: page.items.map(({ item }) => item.id), pageInfo: pageInfoOf(page) };
    },
  }),
);

builder.mutationField('upsert', (t) =>
  t.field({
    type: UpsertSuccessRef,
    description: 'Inserts or replaces items, all or nothing, durable when it answers. Never waits for training.',
    errors: { types: [...indexAccessErrors, DimensionMismatchError, InsufficientResourcesError] },
    args: {
      ...indexArgs,
      items: t.arg({ type: [ItemInputRef], required: true }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: (_root, args, { service }) =>
      service.upsert(
        args.index,
        args.key,
        args.items.map((item) => ({ id: String(item.id), vector: item.vector, contents: item.contents, metadata: item.metadata })),
        { idempotencyKey: args.idempotencyKey },
      ),
  }),
);

builder.mutationField('deleteItems', (t) =>
  t.field({
    type: DeleteItemsSuccessRef,
    description: 'Deletes the items named by exactly one of ids and filter (a non-empty one), all or nothing.',
    errors: { types: indexAccessErrors },
    args: {
      ...indexArgs,
      ids: t.arg.idList(),
      filter: t.arg({ type: 'JSON', description: FILTER_DESCRIPTION }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: (_root, args, { service }) =>
      service.deleteItems(args.index, args.key, { ids: args.ids?.map(String), filter: args.filter }, { idempotencyKey: args.idempotencyKey }),
  }),
);

builder.mutationField('updateItems', (t) =>
  t.field({
    type: UpdateItemsSuccessRef,
    description:
      'Changes items in place, all or nothing: metadata by JSON merge patch (RFC 7396: null removes a field, null as a whole clears it), contents replaced when given. Vectors, lists and the trained model are untouched.',
    errors: { types: [...indexAccessErrors, ItemsNotFoundError] },
    args: {
      ...indexArgs,
      ids: t.arg.idList({ required: true }),
      metadata: t.arg({ type: 'JSON', description: 'A merge patch applied to each item\'s metadata.' }),
      contents: t.arg.string({ description: 'New contents for each item; null clears them.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: (_root, args, { service }) =>
      service.update(args.index, args.key, args.ids.map(String), { metadata: args.metadata, contents: args.contents }, { idempotencyKey: args.idempotencyKey }),
  }),
);
