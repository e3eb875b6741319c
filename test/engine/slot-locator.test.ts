// SlotLocator answers as a Map of id -> slot would, whatever mix of ids below and beyond its dense
// bound, and across a reserveDense that moves ids already kept into the array.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotLocator } from '../../src/engine/slot-locator.js';

describe('SlotLocator', () => {
  it('behaves as a Map under any sequence of sets, deletes and reserves', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), id: fc.nat(300), slot: fc.nat(1000) }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.nat(300) }),
      fc.record({ kind: fc.constant('reserve' as const), bound: fc.nat(320) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const locator = new SlotLocator();
        const map = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            locator.set(o.id, o.slot);
            map.set(o.id, o.slot);
          } else if (o.kind === 'delete') {
            expect(locator.delete(o.id)).toBe(map.delete(o.id));
          } else locator.reserveDense(o.bound);
          expect(locator.size).toBe(map.size);
        }
        for (let id = 0; id <= 300; id++) {
          expect(locator.get(id)).toBe(map.get(id));
          expect(locator.has(id)).toBe(map.has(id));
        }
      }),
    );
  });

  it('costs 4 bytes an id below its bound, Map entries beyond', () => {
    const locator = new SlotLocator();
    locator.reserveDense(1000);
    locator.set(5, 1);
    locator.set(5000, 2);
    expect(locator.bytes(40)).toBe(4000 + 40);
  });
});
