import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoFromMs } from './instant';

const MIN = Date.UTC(-5000, 0, 1);
const MAX = Date.UTC(12_000, 0, 1);

describe('isoFromMs', () => {
  it('agrees with Date#toISOString everywhere', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), (ms) => {
        expect(isoFromMs(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 20_000 },
    );
  });

  it('holds at the edges of months, leap days and centuries', () => {
    for (const iso of ['1000-01-01T00:00:00.000Z', '1600-02-29T23:59:59.999Z', '1900-03-01T00:00:00.000Z', '2000-02-29T12:00:00.000Z', '2024-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z']) {
      expect(isoFromMs(Date.parse(iso))).toBe(iso);
    }
  });

  it('renders non-integer and out-of-range values as Date does', () => {
    expect(isoFromMs(1.5)).toBe(new Date(1.5).toISOString());
    expect(() => isoFromMs(Number.NaN)).toThrow(RangeError);
  });
});
