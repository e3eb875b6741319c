// Looking inside an index: `browse` pages through its items (optionally filtered) as a Relay
// connection with sealed cursors, and `count` counts them. Like every item read, browse decrypts
// only the payload fields the selection set asks for (selected-item-fields.ts). Items come in a stable order (by keyed
// token), so a walk returns every item that exists throughout exactly once, whatever is written
// meanwhile.

import type { ItemPage } from '../../service/index.js';
import { builder } from '../builder.js';
import { indexAccessErrors } from './errors.js';
import { FILTER_DESCRIPTION } from './filter-description.js';
import { indexArgs } from './index-args.js';
import { selectedItemFields } from '../selected-item-fields.js';
import { deprecatedIncludeArgs, ITEM, ItemRef } from './items.js';

const ItemConnectionRef = builder.connectionObject(
  { type: ItemRef, name: 'ItemConnection', description: 'A page of items, in a stable order.' },
  { name: 'ItemEdge', description: 'An item with the cursor that continues after it.' },
);

const ItemCountRef = builder.objectRef<{ count: number }>('ItemCount').implement({
  fields: (t) => ({ count: t.exposeInt('count') }),
});

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

/** A whole answer in one page. */
export const ONLY_PAGE: PageInfo = { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null };

/** The Relay shape of a service page; paging is forward only, so there is never a previous page to report. */
export function pageInfoOf(page: ItemPage): PageInfo {
  return { hasNextPage: page.hasNextPage, hasPreviousPage: false, startCursor: page.items[0]?.cursor ?? null, endCursor: page.endCursor };
}

builder.queryField('browse', (t) =>
  t.field({
    type: ItemConnectionRef,
    description: 'Pages through the items a filter accepts (all when absent). Cursors are sealed: opaque, and valid for this index only.',
    errors: { types: indexAccessErrors },
    args: {
      ...indexArgs,
      filter: t.arg({ type: 'JSON', description: FILTER_DESCRIPTION }),
      first: t.arg.int({ defaultValue: 100, description: 'Items per page, 1 to 1000.' }),
      after: t.arg.string({ description: "An endCursor or edge cursor from an earlier page of this index." }),
      ...deprecatedIncludeArgs,
    },
    resolve: async (_root, args, { service }, info) => {
      // As for items and search: the fields selected on Item are the ones fetched and decrypted.
      const include = selectedItemFields(info, ITEM);
      const page = await service.browse(args.index, args.key, { filter: args.filter, first: args.first, after: args.after, include });
      return { edges: page.items.map(({ cursor, item }) => ({ cursor, node: item })), pageInfo: pageInfoOf(page) };
    },
  }),
);

builder.queryField('count', (t) =>
  t.field({
    type: ItemCountRef,
    description: 'How many items a filter accepts (all when absent).',
    errors: { types: indexAccessErrors },
    args: { ...indexArgs, filter: t.arg({ type: 'JSON', description: FILTER_DESCRIPTION }) },
    resolve: async (_root, args, { service }) => ({ count: await service.count(args.index, args.key, args.filter) }),
  }),
);
