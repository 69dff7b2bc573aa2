import { describe, expect, it } from 'vitest';
import { estimateRecordBytes, splitIntoRequests } from './produce-requests';

describe('produce requests', () => {
  it('counts key, value and headers in UTF-8 bytes', () => {
    const plain = estimateRecordBytes({ topic: 't', key: 'k', value: 'v' });
    expect(estimateRecordBytes({ topic: 't', key: 'k', value: 'vü' })).toBe(plain + 2);
    expect(estimateRecordBytes({ topic: 't', key: 'k', value: Buffer.alloc(100) })).toBe(plain + 99);
    expect(estimateRecordBytes({ topic: 't', key: 'k', value: 'v', headers: { h: 'x' } })).toBeGreaterThan(plain + 2);
  });

  it('cut records into requests under the limit, in order, never dropping an oversized one', () => {
    const records = Array.from({ length: 100 }, (_, i) => ({ topic: 't', key: String(i), value: 'x'.repeat(i % 7 === 0 ? 5_000 : 300) }));
    const requests = splitIntoRequests(records, { maxBytes: 4_096 });
    expect(requests.flat()).toEqual(records);
    for (const request of requests) {
      const bytes = request.reduce((sum, r) => sum + estimateRecordBytes(r), 0);
      // A record larger than the limit travels alone (the size guard decides about it).
      expect(bytes <= 4_096 || request.length === 1).toBe(true);
    }
    expect(requests.length).toBeGreaterThan(10);
    expect(splitIntoRequests([], { maxBytes: 100 })).toEqual([]);
    const small = Array.from({ length: 5 }, (_, i) => ({ topic: 't', key: String(i), value: 'x' }));
    expect(splitIntoRequests(small, { maxBytes: 1e6, maxRecords: 2 }).map((r) => r.length)).toEqual([2, 2, 1]);
  });
});
