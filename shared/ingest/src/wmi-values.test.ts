import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDate, parseLicenseStatus, parseUint32, parseWmiDatetime } from './wmi-values';

const value = <T>(r: { ok: true; value: T } | { ok: false; expected: string }) => (r.ok ? r.value : `!${r.expected}`);

/** parseWmiDatetime as it was first written (regex and Date round trip): the reference. */
function referenceWmiDatetime(text: string): string {
  if (text.includes('*')) return 'placeholders';
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(text);
  if (m === null) return 'syntax';
  const [, y, mo, d, h, mi, s, micro, sign, off] = m.map(String);
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)] as const;
  const local = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], Math.floor(Number(micro) / 1000));
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== fields[0] || check.getUTCMonth() !== fields[1] - 1 || check.getUTCDate() !== fields[2] ||
    check.getUTCHours() !== fields[3] || check.getUTCMinutes() !== fields[4] || check.getUTCSeconds() !== fields[5]
  ) {
    return 'calendar';
  }
  const ms = local - (sign === '-' ? -1 : 1) * Number(off) * 60_000;
  return ms < Date.UTC(1601, 0, 1) || ms > Date.UTC(9999, 11, 31, 23, 59, 59, 999) ? 'range' : new Date(ms).toISOString();
}

function outcome(text: string): string {
  const r = parseWmiDatetime(text);
  if (r.ok) return r.value;
  if (r.expected.includes('placeholders')) return 'placeholders';
  if (r.expected.includes('real calendar time')) return 'calendar';
  if (r.expected.includes('between 1601 and 9999')) return 'range';
  return 'syntax';
}

describe('parseWmiDatetime', () => {
  it('reads every value as the regex-and-Date reference does', () => {
    const digit = (n: number, max = 9) => fc.array(fc.integer({ min: 0, max }), { minLength: n, maxLength: n }).map((a) => a.join(''));
    const near = fc
      .tuple(
        fc.constantFrom('0001', '0099', '0100', '1600', '1601', '1900', '2000', '2023', '2024', '9999'),
        fc.constantFrom('00', '01', '02', '12', '13'),
        fc.constantFrom('00', '01', '28', '29', '30', '31', '32'),
        fc.constantFrom('00', '23', '24'),
        fc.constantFrom('00', '59', '60'),
        fc.constantFrom('00', '59', '60'),
        digit(6),
        fc.constantFrom('+', '-', 'x'),
        fc.constantFrom('000', '060', '720', '999'),
      )
      .map((parts) => `${parts.slice(0, 6).join('')}.${parts.slice(6).join('')}`);
    const noise = fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '+', '-', '*', ' ', 'a'), minLength: 20, maxLength: 27 });
    fc.assert(
      fc.property(fc.oneof(near, noise, digit(25).map((t) => `${t.slice(0, 14)}.${t.slice(15, 21)}+${t.slice(22)}`)), (text) => {
        expect(outcome(text)).toBe(referenceWmiDatetime(text));
      }),
      { numRuns: 5000 },
    );
  });

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

  it('refuses names every object inherits', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect(parseLicenseStatus(name).ok).toBe(false);
  });

  it('keeps uint32 in range', () => {
    expect(value(parseUint32('4294967295'))).toBe(4294967295);
    expect(parseUint32('4294967296').ok).toBe(false);
    expect(parseUint32(-1).ok).toBe(false);
    expect(parseUint32('1.5').ok).toBe(false);
    expect(parseUint32(1.5).ok).toBe(false);
  });
});
