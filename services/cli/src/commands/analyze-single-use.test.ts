import { describe, expect, it } from 'vitest';
import { RepeatedKeys, singleUseKeys } from './analyze-single-use';

const hwid = (n: number) => n.toString(16).padStart(40, '0').toUpperCase();

describe('RepeatedKeys', () => {
  it('tells the keys named again from 200,000 named once', () => {
    const keys = new RepeatedKeys(200_000 + 2_000);
    for (let n = 0; n < 200_000; n++) keys.add(hwid(n));
    for (let n = 0; n < 200_000; n += 100) keys.add(hwid(n));
    for (let n = 0; n < 200_000; n++) expect(keys.has(hwid(n))).toBe(n % 100 === 0);
    const single = singleUseKeys(keys, new RepeatedKeys(0));
    expect(single.hwid(hwid(1))).toBe(true);
    expect(single.hwid(hwid(100))).toBe(false);
    expect(single.computer('LS01|PC-1')).toBe(true);
  });

  it('refuses more keys than it was made for instead of slowing to a crawl', () => {
    // Made for at most one key: 1,024 slots, filled to half at most.
    const keys = new RepeatedKeys(1);
    expect(() => {
      for (let n = 0; n < 600; n++) keys.add(hwid(n));
    }).toThrow(/more keys than the table was made for/);
  });
});
