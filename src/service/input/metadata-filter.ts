// MongoDB-style metadata filters, compiled once per search into a predicate over an item's
// decoded metadata. Malformed filters are rejected with a ValidationError naming the operator.
//
// Semantics follow MongoDB where it is well defined for JSON:
// - `{ field: value }` is `{ field: { $eq: value } }`; several fields in one object are ANDed.
// - Dotted paths reach into nested objects; an array on the way is searched element by element.
// - A field holding an array matches `$eq`, `$in` and the range operators when any element does.
// - `$eq: null` (and `{ field: null }`) also matches a missing field; `$ne` and `$nin` match a
//   missing field; range operators never do.
// - Range operators compare numbers with numbers and strings with strings (code-point order);
//   values of another type never match.

import { ValidationError } from '../errors.js';
import type { Filter, JsonObject, JsonValue } from '../types.js';

export type MetadataPredicate = (metadata: JsonObject | null | undefined) => boolean;

const FIELD_OPERATORS = ['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists'] as const;
const LOGICAL_OPERATORS = ['$and', '$or'] as const;
const ALL_OPERATORS: readonly string[] = [...FIELD_OPERATORS, ...LOGICAL_OPERATORS];

/** Deeper filters than this are refused: they are never useful and recursion must stay bounded. */
const MAX_FILTER_DEPTH = 32;

type Candidates = JsonValue[];
type FieldTest = (candidates: Candidates) => boolean;

const matchAll: MetadataPredicate = () => true;

/** Compiles `filter`; an absent or empty filter matches every item. Throws ValidationError. */
export function compileFilter(filter: Filter | null | undefined): MetadataPredicate {
  if (filter === null || filter === undefined) return matchAll;
  return compileDocument(filter, 'filter', 0);
}

function fail(where: string, message: string): never {
  throw new ValidationError('filter', `${where}: ${message}`, { allowed: ALL_OPERATORS });
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function compileDocument(filter: unknown, where: string, depth: number): MetadataPredicate {
  if (depth > MAX_FILTER_DEPTH) fail(where, `filters may nest at most ${MAX_FILTER_DEPTH} levels`);
  if (!isPlainObject(filter)) fail(where, 'a filter must be an object');
  const clauses: MetadataPredicate[] = [];
  for (const [key, operand] of Object.entries(filter)) {
    if (key === '$and' || key === '$or') {
      clauses.push(compileLogical(key, operand, `${where}.${key}`, depth));
    } else if (key.startsWith('$')) {
      fail(where, `unknown top-level operator "${key}" (fields are matched by name; operators here are $and, $or)`);
    } else {
      if (key === '' || key.split('.').some((part) => part === '')) fail(where, `"${key}" is not a valid field path`);
      clauses.push(compileField(key, operand, `${where}.${key}`, depth));
    }
  }
  if (clauses.length === 0) return matchAll;
  if (clauses.length === 1) return clauses[0];
  return (metadata) => clauses.every((clause) => clause(metadata));
}

function compileLogical(operator: '$and' | '$or', operand: unknown, where: string, depth: number): MetadataPredicate {
  if (!Array.isArray(operand) || operand.length === 0) fail(where, `${operator} takes a non-empty array of filters`);
  const parts = operand.map((part, i) => compileDocument(part, `${where}[${i}]`, depth + 1));
  return operator === '$and'
    ? (metadata) => parts.every((part) => part(metadata))
    : (metadata) => parts.some((part) => part(metadata));
}

function compileField(path: string, operand: unknown, where: string, depth: number): MetadataPredicate {
  const segments = path.split('.');
  const test = compileFieldExpression(operand, where, depth);
  return (metadata) => test(resolvePath(metadata, segments));
}

function compileFieldExpression(operand: unknown, where: string, depth: number): FieldTest {
  const isOperatorObject = isPlainObject(operand) && Object.keys(operand).some((key) => key.startsWith('$'));
  if (!isOperatorObject) return equalsTest(checkJson(operand, where, depth));
  const tests: FieldTest[] = [];
  for (const [operator, value] of Object.entries(operand)) {
    const at = `${where}.${operator}`;
    switch (operator) {
      case '$eq':
        tests.push(equalsTest(checkJson(value, at, depth)));
        break;
      case '$ne': {
        const eq = equalsTest(checkJson(value, at, depth));
        tests.push((candidates) => !eq(candidates));
        break;
      }
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        tests.push(rangeTest(operator, value, at));
        break;
      case '$in':
      case '$nin': {
        if (!Array.isArray(value)) fail(at, `${operator} takes an array of values`);
        const options = value.map((option, i) => equalsTest(checkJson(option, `${at}[${i}]`, depth)));
        const anyOf: FieldTest = (candidates) => options.some((option) => option(candidates));
        tests.push(operator === '$in' ? anyOf : (candidates) => !anyOf(candidates));
        break;
      }
      case '$exists': {
        if (typeof value !== 'boolean') fail(at, '$exists takes true or false');
        tests.push((candidates) => (candidates.length > 0) === value);
        break;
      }
      default:
        if (operator.startsWith('$')) fail(at, `unknown operator "${operator}"`);
        fail(where, `cannot mix operators and field "${operator}" in one object`);
    }
  }
  if (tests.length === 1) return tests[0];
  return (candidates) => tests.every((test) => test(candidates));
}

/** Operands come from JSON, but callers in code can pass anything: only JSON values are accepted. */
function checkJson(value: unknown, where: string, depth: number): JsonValue {
  if (depth > MAX_FILTER_DEPTH) fail(where, `filters may nest at most ${MAX_FILTER_DEPTH} levels`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(where, `${value} is not a JSON number`);
    return value;
  }
  if (Array.isArray(value)) {
    value.forEach((element, i) => checkJson(element, `${where}[${i}]`, depth + 1));
    return value as JsonValue[];
  }
  if (isPlainObject(value)) {
    for (const [key, element] of Object.entries(value)) checkJson(element, `${where}.${key}`, depth + 1);
    return value;
  }
  fail(where, `${typeof value} is not a JSON value`);
}

function equalsTest(expected: JsonValue): FieldTest {
  if (expected === null) {
    return (candidates) => candidates.length === 0 || candidates.some((value) => value === null);
  }
  return (candidates) =>
    candidates.some(
      (value) => jsonEqual(value, expected) || (Array.isArray(value) && !Array.isArray(expected) && value.some((element) => jsonEqual(element, expected))),
    );
}

function rangeTest(operator: '$gt' | '$gte' | '$lt' | '$lte', bound: unknown, where: string): FieldTest {
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
  return (candidates) => candidates.some((value) => holds(value) || (Array.isArray(value) && value.some(holds)));
}

/** The values a dotted path reaches: none when missing, several when it crosses arrays. */
export function resolvePath(metadata: JsonObject | null | undefined, segments: readonly string[]): Candidates {
  if (metadata === null || metadata === undefined) return [];
  let current: Candidates = [metadata];
  for (const segment of segments) {
    const next: Candidates = [];
    for (const value of current) collectField(value, segment, next);
    if (next.length === 0) return next;
    current = next;
  }
  return current;
}

function collectField(value: JsonValue, segment: string, into: Candidates): void {
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
