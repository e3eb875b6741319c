// Items: the vectors with their contents and metadata; upserting, reading, listing and
// deleting them. The ItemField enum chooses what reads return besides the id.

import { DimensionMismatchError } from '../../service/index.js';
import type { IndexInfo, Item } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { indexArgs } from './index-args.js';
import { IndexRef } from './indexes.js';

export const ItemFieldEnum = builder.enumType('ItemField', {
  description: 'What a read returns besides the id.',
  values: {
    VECTOR: { value: 'vector' },
    CONTENTS: { value: 'contents' },
    METADATA: { value: 'metadata' },
  } as const,
});

export const ItemRef = builder.objectRef<Item>('Item').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    vector: t.expose('vector', { type: 'Vector', nullable: true, description: 'Present when VECTOR was included.' }),
    contents: t.exposeString('contents', { nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', nullable: true }),
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
      include: t.arg({ type: [ItemFieldEnum] }),
    },
    resolve: async (_root, args, { service }) => ({
      items: await service.get(args.index, args.key, args.ids.map(String), args.include ?? undefined),
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
