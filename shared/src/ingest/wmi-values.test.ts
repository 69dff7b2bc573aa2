import { describe, expect, it } from 'vitest';
import { parseDate, parseLicenseStatus, parseUint32, parseWmiDatetime } from './wmi-values';

const value = <T>(r: { ok: true; value: T } | { ok: false; expected: string }) => (r.ok ? r.value : `!${r.expected}`);

describe('parseWmiDatetime', () => {
  it.each([
    ['20240612093015.000000+000', '2024-06-12T09:30:15.000Z'],
    ['20240612113015.123456+120', '2024-06-12T09:30:15.123Z'],
    ['20240612043015.000000-300', '2024-06-12T09:30:15.000Z'],
    ['20240612150015.999999+330', '2024-06-12T09:30:15.999Z'],
    ['20240101003000.000000+060', '2023-12-31T23:30:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(value(parseWmiDatetime(text))).toBe(iso);
  });

  it('rejects `*` placeholders with the reason', () => {
    const r = parseWmiDatetime('20240612093015.******+000');
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.expected).toMatch(/`\*` placeholders/);
  });

  it('rejects impossible calendar values and wrong lengths', () => {
    expect(parseWmiDatetime('20240231093015.000000+000').ok).toBe(false);
    expect(parseWmiDatetime('20241312093015.000000+000').ok).toBe(false);
    expect(parseWmiDatetime('20240612093015.000000+00').ok).toBe(false);
  });
});

describe('parseDate', () => {
  it.each<[unknown, string]>([
    ['/Date(1718184615000)/', '2024-06-12T09:30:15.000Z'],
    ['/Date(1718184615000+0200)/', '2024-06-12T09:30:15.000Z'],
    [{ value: '/Date(1718184615000)/', DisplayHint: 2, DateTime: 'Wednesday, June 12, 2024 11:30:15 AM' }, '2024-06-12T09:30:15.000Z'],
    ['2024-06-12T09:30:15Z', '2024-06-12T09:30:15.000Z'],
    ['2024-06-12T09:30:15.1234567Z', '2024-06-12T09:30:15.123Z'],
    ['2024-06-12T11:30:15+02:00', '2024-06-12T09:30:15.000Z'],
    ['2024-06-12T04:30:15.5-05:00', '2024-06-12T09:30:15.500Z'],
    ['20240612093015.000000+000', '2024-06-12T09:30:15.000Z'],
  ])('%j is %s', (input, iso) => {
    expect(value(parseDate(input))).toBe(iso);
  });

  it('refuses local times without a zone and says why', () => {
    expect(value(parseDate('2024-06-12T09:30:15'))).toMatch(/without Z or offset/);
    expect(value(parseDate('6/12/2024 9:30:15 AM'))).toMatch(/culture-formatted local time/);
    expect(value(parseDate(42))).toMatch(/^!a WMI DATETIME/);
    expect(parseDate({ DateTime: 'x' }).ok).toBe(false);
  });
});

describe('parseLicenseStatus / parseUint32', () => {
  it('reads codes and names', () => {
    expect(value(parseLicenseStatus(2))).toBe('active');
    expect(value(parseLicenseStatus('4'))).toBe('revoked');
    expect(value(parseLicenseStatus('Temporary'))).toBe('temporary');
    expect(value(parseLicenseStatus('permanent'))).toBe('active');
    expect(parseLicenseStatus(7).ok).toBe(false);
    expect(parseLicenseStatus('gone').ok).toBe(false);
  });

  it('keeps uint32 in range', () => {
    expect(value(parseUint32('4294967295'))).toBe(4294967295);
    expect(parseUint32('4294967296').ok).toBe(false);
    expect(parseUint32(-1).ok).toBe(false);
    expect(parseUint32('1.5').ok).toBe(false);
    expect(parseUint32(1.5).ok).toBe(false);
  });
});
