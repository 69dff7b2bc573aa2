import { describe, expect, it } from 'vitest';
import { PUBLISHED_LIST_MAX } from './bounded-lists';
import { EnrichedEventRecord, FindingRecord } from './findings-v1';

const ids = Array.from({ length: 1_000 }, (_, i) => i + 1);
const names = Array.from({ length: 300 }, (_, i) => `VDI-${String(i).padStart(3, '0')}`);

const findingV1 = {
  schemaVersion: 1,
  id: 'cloned-image:LS01:aa01',
  kind: 'cloned-image',
  state: 'open',
  severity: 'high',
  licenseServer: 'LS01',
  productVersion: 'Windows Server 2019',
  hwids: ['aa01'],
  computers: names,
  licenseIds: ids,
  leakedCals: 700,
  reclaimableLicenseIds: ids.slice(0, 700),
  revokePlan: [
    { notBefore: '2024-01-10T00:00:00.000Z', licenseIds: ids.slice(0, 30) },
    { notBefore: '2024-02-10T00:00:00.000Z', licenseIds: ids.slice(30, 700) },
  ],
  firstSeen: '2024-01-01T00:00:00.000Z',
  lastSeen: '2024-01-10T00:00:00.000Z',
  updatedAt: '2024-01-10T00:00:00.000Z',
  revision: 4,
  timeline: [],
  summary: 's',
  remediation: 'r',
};

describe('FindingRecord', () => {
  it('reads a version 1 finding still on the topic as a bounded version 2', () => {
    const parsed = FindingRecord.safeParse(findingV1);
    expect(parsed.success).toBe(true);
    const f = parsed.data!;
    expect(f).toMatchObject({ schemaVersion: 2, hwidCount: 1, computerCount: 300, licenseCount: 1_000, leakedCals: 700, revision: 4 });
    expect(f.computers).toEqual(names.slice(0, PUBLISHED_LIST_MAX));
    expect(f.licenseIds).toEqual(ids.slice(-PUBLISHED_LIST_MAX));
    expect(f.reclaimableLicenseIds).toEqual(ids.slice(700 - PUBLISHED_LIST_MAX, 700));
    expect(f.revokePlan.map((b) => [b.count, b.licenseIds.length, b.product])).toEqual([
      [30, 30, 'Windows Server 2019'],
      [670, PUBLISHED_LIST_MAX - 30, 'Windows Server 2019'],
    ]);
  });

  it('still refuses what is neither version', () => {
    expect(FindingRecord.safeParse({ ...findingV1, kind: 'made-up' }).success).toBe(false);
    expect(FindingRecord.safeParse({ ...findingV1, schemaVersion: 3 }).success).toBe(false);
  });
});

describe('EnrichedEventRecord', () => {
  it('reads a version 1 enriched event as a bounded version 2', () => {
    const event = {
      schemaVersion: 1,
      eventId: '0123456789abcdef0123456789abcdef',
      eventTime: '2024-01-10T00:00:00.000Z',
      observedTime: '2024-01-10T00:00:00.000Z',
      source: { kind: 'simulator', ref: 't' },
      licenseServer: 'LS01',
      type: 'client.store',
      computer: { raw: 'VDI-001', norm: 'VDI-001' },
      hwids: [{ raw: 'aa01', norm: 'aa01' }],
    };
    const parsed = EnrichedEventRecord.safeParse({
      schemaVersion: 1,
      event,
      context: { hwidLicenseIds: ids, hwidComputers: names, computerHwids: ['aa01'], classification: 'cloned-image', findingIds: ['f'] },
    });
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data!.schemaVersion).toBe(2);
    expect(parsed.data!.context).toMatchObject({ hwidLicenseCount: 1_000, hwidComputerCount: 300, computerHwidCount: 1, classification: 'cloned-image' });
    expect(parsed.data!.context.hwidLicenseIds).toHaveLength(PUBLISHED_LIST_MAX);
  });
});
