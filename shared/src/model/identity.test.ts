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
