import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoFromMs, msFromIso } from './instant';

const MIN = Date.UTC(-5000, 0, 1);
const MAX = Date.UTC(12_000, 0, 1);

describe('isoFromMs', () => {
  it('agrees with Date#toISOString everywhere', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(isoFromMs(ms)).toBe(iso);
        // Read back at once (the instant just written is remembered), and parsed once the
        // two remembered instants are others.
        expect(msFromIso(iso)).toBe(ms);
        isoFromMs(ms + 1);
        isoFromMs(ms + 2);
        expect(msFromIso(iso)).toBe(ms);
      }),
      { numRuns: 20_000 },
    );
  });

  it('holds at the edges of months, leap days and centuries', () => {
    for (const iso of ['1000-01-01T00:00:00.000Z', '1600-02-29T23:59:59.999Z', '1900-03-01T00:00:00.000Z', '2000-02-29T12:00:00.000Z', '2024-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z', '1970-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z']) {
      expect(isoFromMs(Date.parse(iso))).toBe(iso);
      expect(msFromIso(iso)).toBe(Date.parse(iso));
    }
  });

  it('reads other and invalid texts as Date.parse does', () => {
    const texts = ['2024-02-30T00:00:00.000Z', '1900-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z', '2024-06-12T24:00:00.000Z', '2024-06-12T09:60:00.000Z',
      '2024-06-12T09:30:15Z', '2024-06-12T09:30:15.123+02:00', '2024-13-01T00:00:00.000Z', '2024-00-01T00:00:00.000Z', '0999-06-12T09:30:15.123Z',
      '2024-06-12X09:30:15.123Z', '2024-06-1aT09:30:15.123Z', '2024-06-12T09:30:15.12aZ', 'x'.repeat(24), ''];
    for (const text of texts) expect(msFromIso(text)).toBe(Date.parse(text));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789-T:.Z'.split('')), minLength: 24, maxLength: 24 }), (text) => {
        expect(msFromIso(text)).toBe(Date.parse(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('renders non-integer and out-of-range values as Date does', () => {
    expect(isoFromMs(1.5)).toBe(new Date(1.5).toISOString());
    // Text that does not give the value back exactly is read as Date.parse reads it.
    expect(msFromIso(isoFromMs(1.5))).toBe(1);
    expect(() => isoFromMs(Number.NaN)).toThrow(RangeError);
  });
});
