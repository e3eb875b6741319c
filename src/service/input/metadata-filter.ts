// MongoDB-style metadata filters, compiled once per call into a predicate over an item's decoded
// metadata, and into a plan that narrows the candidates through a metadata index when one is at
// hand. The operators live in two tables below (field and logical); validation, evaluation, index
// lookups and the operator list in the GraphQL descriptions all come from those tables.
// Malformed filters are rejected with a ValidationError naming the operator.
//
// Semantics follow MongoDB where it is well defined for JSON:
// - `{ field: value }` is `{ field: { $eq: value } }`; several fields in one object are ANDed.
// - Dotted paths reach into nested objects; an array on the way is searched element by element.
// - A field holding an array matches `$eq`, `$in` and the range operators when any element does.
// - `$eq: null` (and `{ field: null }`) also matches a missing field; `$ne`, `$nin` and `$not`
//   match a missing field; range operators and `$contains` never do.
// - Range operators compare numbers with numbers and strings with strings (code-point order);
//   values of another type never match.

import { ValidationError } from '../errors.js';
import type { Filter, JsonObject, JsonValue } from '../types.js';

export type MetadataPredicate = (metadata: JsonObject | null | undefined) => boolean;

/** One end of a numeric range. */
export interface RangeBound {
  value: number;
  inclusive: boolean;
}

/**
 * What a metadata index answers, by item slot. `null` means "not indexed, cannot say": the plan
 * then falls back to testing items one by one.
 */
export interface MetadataLookup {
  /** Slots whose `path` holds `value` (a non-null scalar), directly or as an array element. */
  equal(path: string, value: string | number | boolean): ReadonlySet<number> | null;
  /** Slots whose `path` holds a number within the bounds, directly or as an array element. */
  range(path: string, lower: RangeBound | null, upper: RangeBound | null): ReadonlySet<number> | null;
}

/** Candidates a plan found: `exact` when they are precisely the matches, else a superset of them. */
export interface Candidates {
  slots: ReadonlySet<number>;
  exact: boolean;
}

export interface CompiledFilter {
  matches: MetadataPredicate;
  /** The matching slots (or a superset) from an index, or null when the index cannot narrow them. */
  candidates(lookup: MetadataLookup): Candidates | null;
}

type FieldValues = JsonValue[];
type FieldTest = (values: FieldValues) => boolean;
type Lookup = (lookup: MetadataLookup) => Candidates | null;

/** One field operator's compiled form: its test, and how an index finds its matches (if it can). */
interface FieldClause {
  test: FieldTest;
  /** Absent when the operator cannot be answered by an index (negations, $exists). */
  lookup?: (lookup: MetadataLookup, path: string) => Candidates | null;
  /** For range operators: the numeric bound, so a field's bounds become one index range. */
  bound?: { side: 'lower' | 'upper'; bound: RangeBound };
}

interface FieldOperator {
  operand: string;
  description: string;
  compile(value: unknown, where: string, depth: number): FieldClause;
}

interface LogicalOperator {
  operand: string;
  description: string;
  combine(parts: CompiledFilter[]): CompiledFilter;
}

/** Deeper filters than this are refused: they are never useful and recursion must stay bounded. */
const MAX_FILTER_DEPTH = 32;

const FIELD_OPERATORS = {
  $eq: {
    operand: 'value',
    description: 'equals (an array field: any element equals; null also matches a missing field)',
    compile: (value, where, depth) => equalsClause(checkJson(value, where, depth)),
  },
  $ne: {
    operand: 'value',
    description: 'does not equal (matches a missing field)',
    compile: (value, where, depth) => negated(equalsClause(checkJson(value, where, depth))),
  },
  $gt: rangeOperator('$gt', 'greater than'),
  $gte: rangeOperator('$gte', 'greater than or equal to'),
  $lt: rangeOperator('$lt', 'less than'),
  $lte: rangeOperator('$lte', 'less than or equal to'),
  $in: {
    operand: '[value]',
    description: 'equals one of the values',
    compile: (value, where, depth) => anyOf('$in', value, where, depth),
  },
  $nin: {
    operand: '[value]',
    description: 'equals none of the values (matches a missing field)',
    compile: (value, where, depth) => negated(anyOf('$nin', value, where, depth)),
  },
  $exists: {
    operand: 'boolean',
    description: 'the field is present (true) or missing (false)',
    compile: (value, where) => {
      if (typeof value !== 'boolean') fail(where, '$exists takes true or false');
      return { test: (values) => (values.length > 0) === value };
    },
  },
  $contains: {
    operand: 'value',
    description: 'the field is an array with an element equal to the value',
    compile: (value, where, depth) => {
      const expected = checkJson(value, where, depth);
      const test: FieldTest = (values) => values.some((held) => Array.isArray(held) && held.some((element) => jsonEqual(element, expected)));
      // The index knows elements and plain values alike: a superset, confirmed by the test.
      const lookup = scalarLookup(expected, false);
      return lookup === undefined ? { test } : { test, lookup };
    },
  },
  $not: {
    operand: '{operator: value}',
    description: 'negates an operator expression, e.g. {"$not": {"$gt": 5}} (matches a missing field)',
    compile: (value, where, depth) => {
      if (!isPlainObject(value) || !Object.keys(value).some((key) => key.startsWith('$'))) {
        fail(where, '$not takes an operator expression, e.g. { "$not": { "$gt": 5 } }');
      }
      return negated(compileOperators(value, where, depth + 1));
    },
  },
} satisfies Record<string, FieldOperator>;

const LOGICAL_OPERATORS = {
  $and: {
    operand: '[filter]',
    description: 'every filter matches',
    combine: (parts) => allOf(parts),
  },
  $or: {
    operand: '[filter]',
    description: 'at least one filter matches',
    combine: (parts) => ({
      matches: (metadata) => parts.some((part) => part.matches(metadata)),
      candidates: (lookup) => union(parts.map((part) => part.candidates(lookup))),
    }),
  },
  $nor: {
    operand: '[filter]',
    description: 'no filter matches',
    combine: (parts) => ({ matches: (metadata) => !parts.some((part) => part.matches(metadata)), candidates: () => null }),
  },
} satisfies Record<string, LogicalOperator>;

type FieldOperatorName = keyof typeof FIELD_OPERATORS;
type LogicalOperatorName = keyof typeof LOGICAL_OPERATORS;

const ALL_OPERATORS: readonly string[] = [...Object.keys(FIELD_OPERATORS), ...Object.keys(LOGICAL_OPERATORS)];

/** Every operator with what it takes and does, for documentation (the GraphQL descriptions). */
export const FILTER_OPERATORS: readonly { name: string; scope: 'field' | 'logical'; operand: string; description: string }[] = [
  ...Object.entries(FIELD_OPERATORS).map(([name, op]) => ({ name, scope: 'field' as const, operand: op.operand, description: op.description })),
  ...Object.entries(LOGICAL_OPERATORS).map(([name, op]) => ({ name, scope: 'logical' as const, operand: op.operand, description: op.description })),
];

/** One paragraph naming every operator, for the descriptions of filter arguments. */
export function describeFilterOperators(): string {
  const list = (scope: 'field' | 'logical') =>
    FILTER_OPERATORS.filter((op) => op.scope === scope)
      .map((op) => `${op.name} ${op.operand}: ${op.description}`)
      .join('; ');
  return (
    'MongoDB-style metadata filter over dotted paths; {"field": value} means $eq, several fields are ANDed. ' +
    `Field operators: ${list('field')}. Logical operators (top level): ${list('logical')}.`
  );
}

const matchAll: CompiledFilter = { matches: () => true, candidates: () => null };

/** Compiles `filter` to a predicate; an absent or empty filter matches every item. Throws ValidationError. */
export function compileFilter(filter: Filter | null | undefined): MetadataPredicate {
  return compileFilterPlan(filter).matches;
}

/** Compiles `filter` to its predicate and its index plan. Throws ValidationError. */
export function compileFilterPlan(filter: Filter | null | undefined): CompiledFilter {
  if (filter === null || filter === undefined) return matchAll;
  return compileDocument(filter, 'filter', 0);
}

/** True for an absent filter and for `{}`: both match every item. */
export function isEmptyFilter(filter: Filter | null | undefined): boolean {
  return filter === null || filter === undefined || (typeof filter === 'object' && Object.keys(filter).length === 0);
}

// Field names, unknown operator names and values are the caller's data: errors never quote them.
// They say where by position (`filter.$and[1].field#2.$in[0]`: the second key of that object) and
// what is wrong; only the operator names of this vocabulary appear by name.
function fail(where: string, message: string): never {
  throw new ValidationError('filter', `${where}: ${message}`, { allowed: ALL_OPERATORS });
}

/** Where the `index`-th key (0-based) of an object at `where` is, without naming it. */
function keyAt(where: string, index: number): string {
  return `${where}.field#${index + 1}`;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compileDocument(filter: unknown, where: string, depth: number): CompiledFilter {
  if (depth > MAX_FILTER_DEPTH) fail(where, `filters may nest at most ${MAX_FILTER_DEPTH} levels`);
  if (!isPlainObject(filter)) fail(where, 'a filter must be an object');
  const clauses: CompiledFilter[] = [];
  for (const [i, [key, operand]] of Object.entries(filter).entries()) {
    if (Object.hasOwn(LOGICAL_OPERATORS, key)) {
      clauses.push(compileLogical(key as LogicalOperatorName, operand, `${where}.${key}`, depth));
    } else if (Object.hasOwn(FIELD_OPERATORS, key)) {
      fail(`${where}.${key}`, `${key} compares a field: put it under one, e.g. { "field": { "${key}": ... } }`);
    } else if (key.startsWith('$')) {
      fail(keyAt(where, i), `unknown top-level operator (fields are matched by name; operators here are ${Object.keys(LOGICAL_OPERATORS).join(', ')})`);
    } else {
      if (key === '' || key.split('.').some((part) => part === '')) fail(keyAt(where, i), 'not a valid field path (empty, or an empty segment between dots)');
      clauses.push(compileField(key, operand, keyAt(where, i), depth));
    }
  }
  if (clauses.length === 0) return matchAll;
  if (clauses.length === 1) return clauses[0];
  return allOf(clauses);
}

function compileLogical(operator: LogicalOperatorName, operand: unknown, where: string, depth: number): CompiledFilter {
  if (!Array.isArray(operand) || operand.length === 0) fail(where, `${operator} takes a non-empty array of filters`);
  const parts = operand.map((part, i) => compileDocument(part, `${where}[${i}]`, depth + 1));
  return LOGICAL_OPERATORS[operator].combine(parts);
}

function compileField(path: string, operand: unknown, where: string, depth: number): CompiledFilter {
  const segments = path.split('.');
  const isOperatorObject = isPlainObject(operand) && Object.keys(operand).some((key) => key.startsWith('$'));
  const clause = isOperatorObject ? compileOperators(operand, where, depth) : equalsClause(checkJson(operand, where, depth));
  const { test, lookup } = clause;
  return {
    matches: (metadata) => test(resolvePath(metadata, segments)),
    candidates: lookup === undefined ? () => null : (source) => lookup(source, path),
  };
}

/** `{ $op: value, ... }` on one field: every operator must hold; numeric bounds merge into one range. */
function compileOperators(operand: JsonObject, where: string, depth: number): FieldClause {
  const clauses: FieldClause[] = [];
  for (const [i, [operator, value]] of Object.entries(operand).entries()) {
    if (!Object.hasOwn(FIELD_OPERATORS, operator)) {
      if (operator.startsWith('$')) fail(keyAt(where, i), 'unknown operator');
      fail(keyAt(where, i), 'cannot mix operators and fields in one object');
    }
    const at = `${where}.${operator}`;
    clauses.push(FIELD_OPERATORS[operator as FieldOperatorName].compile(value, at, depth));
  }
  if (clauses.length === 1) return clauses[0];
  const tests = clauses.map((clause) => clause.test);
  const lookups = clauses.filter((clause) => clause.bound === undefined && clause.lookup !== undefined).map((clause) => clause.lookup!);
  const ranged = clauses.filter((clause) => clause.bound !== undefined);
  if (ranged.length > 0) {
    let lower: RangeBound | null = null;
    let upper: RangeBound | null = null;
    for (const { bound } of ranged) {
      if (bound!.side === 'lower') lower = tighter(lower, bound!.bound, 'lower');
      else upper = tighter(upper, bound!.bound, 'upper');
    }
    lookups.push((source, path) => exactOrNull(source.range(path, lower, upper)));
  }
  const answered = clauses.every((clause) => clause.lookup !== undefined);
  return {
    test: (values) => tests.every((test) => test(values)),
    // Without a lookup for every operator the intersection is only a superset.
    lookup:
      lookups.length === 0
        ? undefined
        : (source, path) => {
            const found = intersect(lookups.map((lookup) => lookup(source, path)));
            return found === null ? null : { slots: found.slots, exact: found.exact && answered };
          },
  };
}

function tighter(current: RangeBound | null, next: RangeBound, side: 'lower' | 'upper'): RangeBound {
  if (current === null) return next;
  if (current.value === next.value) return { value: next.value, inclusive: current.inclusive && next.inclusive };
  return (side === 'lower' ? next.value > current.value : next.value < current.value) ? next : current;
}

function rangeOperator(operator: '$gt' | '$gte' | '$lt' | '$lte', meaning: string): FieldOperator {
  return {
    operand: 'number|string',
    description: meaning,
    compile: (bound, where) => {
      if (typeof bound !== 'number' && typeof bound !== 'string') fail(where, `${operator} takes a number or a string`);
      if (typeof bound === 'number' && !Number.isFinite(bound)) fail(where, `${operator} takes a finite number`);
      const kind = typeof bound;
      const holds = (value: JsonValue): boolean => {
        if (typeof value !== kind) return false;
        const v = value as number | string;
        switch (operator) {
          case '$gt':
            return v > bound;
          case '$gte':
            return v >= bound;
          case '$lt':
            return v < bound;
          case '$lte':
            return v <= bound;
        }
      };
      const test: FieldTest = (values) => values.some((value) => holds(value) || (Array.isArray(value) && value.some(holds)));
      // The index orders numbers only; a string range is tested item by item.
      if (typeof bound !== 'number') return { test };
      const side = operator === '$gt' || operator === '$gte' ? 'lower' : 'upper';
      const range: RangeBound = { value: bound, inclusive: operator === '$gte' || operator === '$lte' };
      return {
        test,
        bound: { side, bound: range },
        lookup: (source, path) => exactOrNull(side === 'lower' ? source.range(path, range, null) : source.range(path, null, range)),
      };
    },
  };
}

function anyOf(operator: '$in' | '$nin', value: unknown, where: string, depth: number): FieldClause {
  if (!Array.isArray(value)) fail(where, `${operator} takes an array of values`);
  const options = value.map((option, i) => equalsClause(checkJson(option, `${where}[${i}]`, depth)));
  const lookups = options.map((option) => option.lookup);
  return {
    test: (values) => options.some((option) => option.test(values)),
    lookup: lookups.every((lookup) => lookup !== undefined) ? (source, path) => union(lookups.map((lookup) => lookup!(source, path))) : undefined,
  };
}

function negated(clause: FieldClause): FieldClause {
  const { test } = clause;
  return { test: (values) => !test(values) };
}

function equalsClause(expected: JsonValue): FieldClause {
  const test = equalsTest(expected);
  const lookup = scalarLookup(expected, true);
  return lookup === undefined ? { test } : { test, lookup };
}

/** How an index finds a non-null scalar (null also matches missing fields; arrays and objects are not indexed). */
function scalarLookup(expected: JsonValue, exact: boolean): FieldClause['lookup'] {
  if (expected === null || typeof expected === 'object') return undefined;
  return (source, path) => {
    const slots = source.equal(path, expected);
    return slots === null ? null : { slots, exact };
  };
}

function exactOrNull(slots: ReadonlySet<number> | null): Candidates | null {
  return slots === null ? null : { slots, exact: true };
}

function allOf(parts: CompiledFilter[]): CompiledFilter {
  return {
    matches: (metadata) => parts.every((part) => part.matches(metadata)),
    candidates: (lookup) => {
      const found = parts.map((part) => part.candidates(lookup));
      const known = intersect(found);
      // Parts the index could not answer are tested on the candidates of the others.
      return known === null ? null : { slots: known.slots, exact: known.exact && found.every((part) => part !== null) };
    },
  };
}

/** The intersection of the known candidate sets (unknown ones are ignored); null when none is known. */
function intersect(sets: (Candidates | null)[]): Candidates | null {
  const known = sets.filter((set): set is Candidates => set !== null).sort((a, b) => a.slots.size - b.slots.size);
  if (known.length === 0) return null;
  if (known.length === 1) return known[0];
  const [smallest, ...others] = known;
  const slots = new Set<number>();
  for (const slot of smallest.slots) if (others.every((other) => other.slots.has(slot))) slots.add(slot);
  return { slots, exact: known.every((set) => set.exact) };
}

/** The union when every set is known; one unknown part makes the whole unknown. */
function union(sets: (Candidates | null)[]): Candidates | null {
  if (sets.some((set) => set === null)) return null;
  const known = sets as Candidates[];
  if (known.length === 1) return known[0];
  const slots = new Set<number>();
  for (const set of known) for (const slot of set.slots) slots.add(slot);
  return { slots, exact: known.every((set) => set.exact) };
}

/** Operands come from JSON, but callers in code can pass anything: only JSON values are accepted. */
function checkJson(value: unknown, where: string, depth: number): JsonValue {
  if (depth > MAX_FILTER_DEPTH) fail(where, `filters may nest at most ${MAX_FILTER_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(where, 'not a finite JSON number');
    return value;
  }
  if (Array.isArray(value)) {
    value.forEach((element, i) => checkJson(element, `${where}[${i}]`, depth + 1));
    return value as JsonValue[];
  }
  if (isPlainObject(value)) {
    for (const [i, element] of Object.values(value).entries()) checkJson(element, keyAt(where, i), depth + 1);
    return value;
  }
  fail(where, `${typeof value} is not a JSON value`);
}

function equalsTest(expected: JsonValue): FieldTest {
  if (expected === null) {
    return (values) => values.length === 0 || values.some((value) => value === null);
  }
  return (values) =>
    values.some(
      (value) => jsonEqual(value, expected) || (Array.isArray(value) && !Array.isArray(expected) && value.some((element) => jsonEqual(element, expected))),
    );
}

/** The values a dotted path reaches: none when missing, several when it crosses arrays. */
export function resolvePath(metadata: JsonObject | null | undefined, segments: readonly string[]): FieldValues {
  if (metadata === null || metadata === undefined) return [];
  let current: FieldValues = [metadata];
  for (const segment of segments) {
    const next: FieldValues = [];
    for (const value of current) collectField(value, segment, next);
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}

function collectField(value: JsonValue, segment: string, into: FieldValues): void {
  if (Array.isArray(value)) {
    for (const element of value) if (isPlainObject(element)) collectField(element, segment, into);
  } else if (isPlainObject(value) && Object.hasOwn(value, segment)) {
    into.push(value[segment]);
  }
}

/** Structural equality; object key order does not matter, array order does. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, i) => jsonEqual(element, b[i]));
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}
