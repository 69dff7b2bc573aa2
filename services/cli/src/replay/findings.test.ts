import { describe, expect, it } from 'vitest';
import type { Finding } from '@calwatch/model';
import { buildSampleFinding } from '@calwatch/indexer/testing';
import { decodeFinding, keepLatest } from './findings';

describe('decodeFinding', () => {
  it('reads a finding record and skips tombstones, broken JSON and other records', () => {
    const finding = buildSampleFinding({ revision: 4 });
    expect(decodeFinding(Buffer.from(JSON.stringify(finding)))).toEqual(finding);
    expect(decodeFinding(null)).toBeUndefined();
    expect(decodeFinding(Buffer.from('{"id":'))).toBeUndefined();
    expect(decodeFinding(Buffer.from(JSON.stringify({ ...finding, revision: 'four' })))).toBeUndefined();
  });
});

describe('keepLatest', () => {
  it('keeps the highest revision per id; an equal revision replaces, an older one does not', () => {
    const latest = new Map<string, Finding>();
    const second = buildSampleFinding({ revision: 2 });
    const secondAgain = buildSampleFinding({ revision: 2, leakedCals: 5 });
    expect(keepLatest(latest, second)).toBe(true);
    expect(keepLatest(latest, buildSampleFinding({ revision: 1 }))).toBe(false);
    expect(latest.get(second.id)).toBe(second);
    expect(keepLatest(latest, secondAgain)).toBe(true);
    expect(latest.get(second.id)).toBe(secondAgain);
    expect(keepLatest(latest, buildSampleFinding({ id: 'other', revision: 1 }))).toBe(true);
    expect(latest.size).toBe(2);
  });
});
