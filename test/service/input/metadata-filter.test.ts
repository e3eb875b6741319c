// Metadata filters: every operator, implicit equality, dotted paths, arrays, missing fields, and
// the ValidationError a malformed filter produces.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/service/errors.js';
import { FILTER_OPERATORS, compileFilter, describeFilterOperators, jsonEqual } from '../../../src/service/input/metadata-filter.js';
import type { Filter, JsonObject } from '../../../src/service/types.js';

const docs: Record<string, JsonObject | null> = {
  a: { genre: 'sci-fi', year: 1965, rating: 4.5, tags: ['classic', 'space'], author: { name: 'Herbert', born: 1920 } },
  b: { genre: 'fantasy', year: 1954, rating: 4.8, tags: ['classic'], author: { name: 'Tolkien', born: 1892 }, draft: null },
  c: { genre: 'sci-fi', year: 2011, rating: 3.9, tags: [], author: { name: 'Weir' }, chapters: [{ n: 1, title: 'x' }, { n: 2 }] },
  d: { year: '1999', published: false },
  e: null,
};

function matching(filter: Filter): string[] {
  const predicate = compileFilter(filter);
  return Object.entries(docs)
    .filter(([, metadata]) => predicate(metadata))
    .map(([id]) => id);
}


/** What compileFilter throws for `filter` (undefined when it compiles). */
function compileError(filter: unknown): unknown {
  try {
    compileFilter(filter as Filter);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('compileFilter', () => {
  it('matches everything when the filter is absent or empty', () => {
    expect(matching({})).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(Object.keys(docs).filter((id) => compileFilter(null)(docs[id]))).toHaveLength(5);
    expect(Object.keys(docs).filter((id) => compileFilter(undefined)(docs[id]))).toHaveLength(5);
  });

  it('treats a plain value as $eq, and ANDs several fields', () => {
    expect(matching({ genre: 'sci-fi' })).toEqual(['a', 'c']);
    expect(matching({ genre: { $eq: 'sci-fi' } })).toEqual(['a', 'c']);
    expect(matching({ genre: 'sci-fi', year: 1965 })).toEqual(['a']);
  });

  it('compares numbers with numbers and strings with strings only', () => {
    expect(matching({ year: { $gt: 1960 } })).toEqual(['a', 'c']);
    expect(matching({ year: { $gte: 1965 } })).toEqual(['a', 'c']);
    expect(matching({ year: { $lt: 1965 } })).toEqual(['b']);
    expect(matching({ year: { $lte: 1965 } })).toEqual(['a', 'b']);
    expect(matching({ year: { $gte: 1960, $lt: 2000 } })).toEqual(['a']);
    expect(matching({ year: { $gt: '1990' } })).toEqual(['d']);
    expect(matching({ genre: { $lt: 'g' } })).toEqual(['b']);
  });

  it('$ne and $nin also match items without the field', () => {
    expect(matching({ genre: { $ne: 'sci-fi' } })).toEqual(['b', 'd', 'e']);
    expect(matching({ genre: { $nin: ['sci-fi', 'fantasy'] } })).toEqual(['d', 'e']);
    expect(matching({ genre: { $in: ['fantasy', 'horror'] } })).toEqual(['b']);
  });

  it('matches array fields element-wise, and whole arrays exactly', () => {
    expect(matching({ tags: 'space' })).toEqual(['a']);
    expect(matching({ tags: { $in: ['classic'] } })).toEqual(['a', 'b']);
    expect(matching({ tags: { $ne: 'classic' } })).toEqual(['c', 'd', 'e']);
    expect(matching({ tags: ['classic'] })).toEqual(['b']);
    expect(matching({ tags: [] })).toEqual(['c']);
  });

  it('follows dotted paths into objects and arrays of objects', () => {
    expect(matching({ 'author.name': 'Weir' })).toEqual(['c']);
    expect(matching({ 'author.born': { $lt: 1900 } })).toEqual(['b']);
    expect(matching({ 'author.born': { $exists: false } })).toEqual(['c', 'd', 'e']);
    expect(matching({ 'chapters.n': 2 })).toEqual(['c']);
    expect(matching({ 'chapters.title': { $exists: true } })).toEqual(['c']);
    expect(matching({ author: { name: 'Herbert', born: 1920 } })).toEqual(['a']);
    expect(matching({ author: { born: 1920, name: 'Herbert' } })).toEqual(['a']);
  });

  it('$exists distinguishes a null value from a missing field; null equality matches both', () => {
    expect(matching({ draft: { $exists: true } })).toEqual(['b']);
    expect(matching({ draft: null })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(matching({ published: false })).toEqual(['d']);
    expect(matching({ published: { $exists: false } })).toEqual(['a', 'b', 'c', 'e']);
  });

  it('combines clauses with $and and $or, nested', () => {
    expect(matching({ $or: [{ genre: 'fantasy' }, { year: { $gt: 2000 } }] })).toEqual(['b', 'c']);
    expect(matching({ $and: [{ genre: 'sci-fi' }, { rating: { $gt: 4 } }] })).toEqual(['a']);
    expect(
      matching({ $or: [{ $and: [{ genre: 'sci-fi' }, { year: { $lt: 2000 } }] }, { 'author.name': 'Tolkien' }], rating: { $gte: 4.6 } }),
    ).toEqual(['b']);
  });

  it('$not negates an operator expression and matches a missing field', () => {
    expect(matching({ year: { $not: { $gt: 1960 } } })).toEqual(['b', 'd', 'e']);
    expect(matching({ genre: { $not: { $in: ['sci-fi'] } } })).toEqual(['b', 'd', 'e']);
    expect(matching({ year: { $not: { $gte: 1960, $lt: 2000 } } })).toEqual(['b', 'c', 'd', 'e']);
  });

  it('$nor matches when no clause does', () => {
    expect(matching({ $nor: [{ genre: 'sci-fi' }, { year: { $lt: 1960 } }] })).toEqual(['d', 'e']);
    expect(matching({ $nor: [{ published: { $exists: true } }] })).toEqual(['a', 'b', 'c', 'e']);
  });

  it('$contains matches array fields holding the value, never plain fields', () => {
    expect(matching({ tags: { $contains: 'classic' } })).toEqual(['a', 'b']);
    expect(matching({ tags: { $contains: 'space' } })).toEqual(['a']);
    expect(matching({ genre: { $contains: 'sci-fi' } })).toEqual([]);
    expect(matching({ 'chapters.n': { $contains: 1 } })).toEqual([]);
    expect(matching({ chapters: { $contains: { n: 2 } } })).toEqual(['c']);
  });

  it('documents every operator it implements, from the same table', () => {
    const names = FILTER_OPERATORS.map((op) => op.name);
    expect(names).toEqual(expect.arrayContaining(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$contains', '$not', '$and', '$or', '$nor']));
    const text = describeFilterOperators();
    for (const name of names) expect(text).toContain(name);
    // Every documented operator compiles: none is described but missing.
    for (const op of FILTER_OPERATORS) {
      const operand = op.scope === 'logical' ? [{ a: 1 }] : op.name === '$exists' ? true : op.name === '$not' ? { $eq: 1 } : op.operand.startsWith('[') ? [1] : 1;
      const filter = op.scope === 'logical' ? { [op.name]: operand } : { a: { [op.name]: operand } };
      expect(() => compileFilter(filter as Filter)).not.toThrow();
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown field operator', { year: { $regex: '19' } }, /field#1\.field#1: unknown operator/],
    ['an unknown top-level operator', { $xor: [{ a: 1 }] }, /field#1: unknown top-level operator/],
    ['a field operator at the top level', { $not: { a: 1 } }, /\$not/],
    ['$not with a plain value', { year: { $not: 1965 } }, /\$not/],
    ['$nor with an empty list', { $nor: [] }, /\$nor/],
    ['$in without an array', { genre: { $in: 'sci-fi' } }, /\$in/],
    ['$nin without an array', { genre: { $nin: 3 } }, /\$nin/],
    ['$exists without a boolean', { genre: { $exists: 1 } }, /\$exists/],
    ['$gt with an object', { year: { $gt: { y: 1 } } }, /\$gt/],
    ['$lte with null', { year: { $lte: null } }, /\$lte/],
    ['$and with an empty list', { $and: [] }, /\$and/],
    ['$or with a non-list', { $or: { genre: 'x' } }, /\$or/],
    ['$or with a non-object clause', { $or: [3] }, /\$or/],
    ['operators mixed with fields', { year: { $gt: 1, exact: 2 } }, /mix/],
    ['an empty path segment', { 'author..name': 'x' }, /field path/],
    ['a non-object filter', ['genre'], /object/],
  ])('rejects %s with a ValidationError naming it', (_, filter, message) => {
    const caught = compileError(filter);
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).argument).toBe('filter');
    expect((caught as ValidationError).message).toMatch(message);
  });

  // Field names, unknown operator names and values are the caller's data (issue #11): an error
  // says where by position and what is wrong, and never quotes them.
  it.each<[string, unknown, string]>([
    ['an unknown operator', { 'secret-field': { $secretop: 1 } }, 'filter.field#1.field#1: unknown operator'],
    ['an unknown top-level operator', { a: 1, $secretop: [] }, 'filter.field#2: unknown top-level operator'],
    ['a field mixed with operators', { 'secret-field': { $gt: 1, 'secret-inner': 2 } }, 'filter.field#1.field#2: cannot mix operators and fields'],
    ['an empty path segment', { $and: [{ ok: 1 }, { 'secret..field': 1 }] }, 'filter.$and[1].field#1: not a valid field path'],
    ['a non-JSON value deep in a value', { 'secret-field': { $eq: { 'secret-key': [1, Number.NaN] } } }, 'filter.field#1.$eq.field#1[1]: not a finite JSON number'],
    ['a bad $in element', { 'secret-field': { $in: ['secret-value', Infinity] } }, 'filter.field#1.$in[1]: not a finite JSON number'],
  ])('names the place of %s without quoting names or values', (_, filter, expected) => {
    const caught = compileError(filter);
    expect(caught).toBeInstanceOf(ValidationError);
    const { message } = caught as ValidationError;
    expect(message).toContain(expected);
    expect(message).not.toMatch(/secret|NaN|Infinity/);
  });

  it('compares JSON structurally, ignoring key order only', () => {
    expect(jsonEqual({ a: [1, { b: 2 }], c: null }, { c: null, a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined as unknown as null })).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
  });
});
