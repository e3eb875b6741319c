import { describe, expect, it } from 'vitest';
import { DateTimeScalar } from '../../../src/graphql/scalars/date-time-scalar.js';

describe('DateTime scalar', () => {
  it('serializes a Date as its ISO 8601 UTC string', () => {
    const date = new Date(Date.UTC(2025, 0, 31, 12, 30, 5, 250));
    expect(DateTimeScalar.serialize(date)).toBe('2025-01-31T12:30:05.250Z');
  });

  it('parses RFC 3339 strings and rejects others', () => {
    expect((DateTimeScalar.parseValue('2025-01-31T12:30:05Z') as Date).getTime()).toBe(Date.UTC(2025, 0, 31, 12, 30, 5));
    expect(() => DateTimeScalar.parseValue('yesterday')).toThrow();
  });
});
