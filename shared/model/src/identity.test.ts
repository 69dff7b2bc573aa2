import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeComputer, normalizeHwid } from './identity';

describe('normalizeHwid', () => {
  it.each([
    ['0x0201ABCD-1234', '0201abcd1234'],
    ['{02 01 ab cd}', '0201abcd'],
    ['FF01:AA', 'ff01aa'],
    ['0x00000002, 0x1A2B3C4D', '000000021a2b3c4d'],
  ])('%s -> %s', (raw, norm) => {
    expect(normalizeHwid(raw)).toBe(norm);
  });

  it('normalises every rendering as trim, lower case, drop 0x, drop separators, hex check do', () => {
    const reference = (raw: string) => {
      const bare = raw.trim().toLowerCase().replace(/0x/g, '').replace(/[\s\-:{},._]/g, '');
      return bare.length > 0 && /^[0-9a-f]+$/.test(bare) ? bare : undefined;
    };
    const unit = fc.constantFrom(...'0xX09afAFgG -:{},._\t\n\u00a0\ufeff\u2028É'.split(''));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 60 }), (raw) => {
        expect(normalizeHwid(raw)).toBe(reference(raw));
      }),
      { numRuns: 5000 },
    );
    expect(normalizeHwid('0x1'.repeat(600))).toBe(reference('0x1'.repeat(600)));
  });

  it('rejects renderings without hex', () => {
    expect(normalizeHwid('')).toBeUndefined();
    expect(normalizeHwid(' - ')).toBeUndefined();
    expect(normalizeHwid('not-an-id')).toBeUndefined();
  });
});

describe('normalizeComputer', () => {
  it('drops the domain suffix and upper-cases', () => {
    expect(normalizeComputer('pc01.corp.example')).toBe('PC01');
    expect(normalizeComputer('  \\\\Vdi-007 ')).toBe('VDI-007');
    expect(normalizeComputer('LS01')).toBe('LS01');
  });
});
