import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnrichedEvent, Finding, PUBLISHED_LIST_MAX, Revocation } from '@calwatch/model';
import { buildEnrichedDocument, buildFindingDocument, buildFindingVersion, buildRevocationDocument } from './documents';
import { buildEnrichedMappings, buildFindingsMappings, buildRevocationsMappings, type FieldMapping, type Properties } from './mappings';
import { buildSampleEnrichedEventsOfEveryType, buildSampleFinding, buildSampleLicenseEvent, buildSampleRevocation } from './testing/samples';

/** Every value in `doc` must have a mapped field of a fitting type; returns the misfits. */
function misfits(doc: unknown, properties: Properties, path = ''): string[] {
  const problems: string[] = [];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return [`${path || '(root)'}: not an object`];
  for (const [name, value] of Object.entries(doc as Record<string, unknown>)) {
    const here = path === '' ? name : `${path}.${name}`;
    const field = properties[name];
    if (field === undefined) {
      problems.push(`${here}: not in the mapping`);
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) problems.push(...fits(v, field, here));
  }
  return problems;
}

function fits(value: unknown, field: FieldMapping, path: string): string[] {
  if (value === null) return [];
  if ('properties' in field) return misfits(value, field.properties, path);
  switch (field.type) {
    case 'keyword':
    case 'text':
      return typeof value === 'string' ? [] : [`${path}: ${field.type} holds ${typeof value}`];
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? [] : [`${path}: date holds ${JSON.stringify(value)}`];
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      return Number.isInteger(value) ? [] : [`${path}: ${field.type} holds ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: boolean holds ${typeof value}`];
    case 'object':
      return typeof value === 'object' ? [] : [`${path}: object holds ${typeof value}`];
  }
  return [`${path}: unknown mapping`];
}

describe('buildEnrichedDocument', () => {
  const mapping = buildEnrichedMappings();
  const samples = buildSampleEnrichedEventsOfEveryType();

  it('covers every canonical event type in the samples', () => {
    expect(new Set(samples.map((s) => s.event.type)).size).toBe(8);
    for (const sample of samples) expect(EnrichedEvent.safeParse(sample).success).toBe(true);
  });

  it.each(samples.map((s) => [s.event.type, s] as const))('%s fits the enriched mapping', (_type, sample) => {
    expect(misfits(buildEnrichedDocument(sample, '2026-11-27T00:00:00.000Z'), mapping.properties)).toEqual([]);
  });

  it('maps the license event onto ECS fields', () => {
    const doc = buildEnrichedDocument(samples[0]!, '2026-11-27T00:00:00.000Z') as Record<string, any>;
    expect(doc['@timestamp']).toBe(samples[0]!.event.eventTime);
    expect(doc.event.action).toBe('license.issued');
    expect(doc.event.id).toBe(samples[0]!.event.eventId);
    expect(doc.host).toEqual({ name: 'PC-007', id: '000000021a2b0007' });
    expect(doc.user).toEqual({ name: 'jdoe' });
    expect(doc.related.hosts).toEqual(['LS01', 'PC-007']);
    expect(doc.calwatch.context.classification).toBe('cloned-image');
    expect(doc.calwatch.license.id).toBe(1007);
  });

  it('keeps service-event inserts in _source only', () => {
    const service = samples.find((s) => s.event.type === 'service.event')!;
    const doc = buildEnrichedDocument(service, '2026-11-27T00:00:00.000Z') as Record<string, any>;
    expect(doc.event.code).toBe('21');
    expect(doc.calwatch.service.params).toEqual({ param1: 'LS01', param2: 'RDS Per Device CAL', param3: 'RDSH01' });
    expect(mapping.properties['calwatch']).toMatchObject({ properties: { service: { properties: { params: { type: 'object', enabled: false } } } } });
  });
});

describe('buildFindingDocument', () => {
  it('fits the findings mapping', () => {
    const finding = buildSampleFinding();
    expect(Finding.safeParse(finding).success).toBe(true);
    expect(misfits(buildFindingDocument(finding, '2026-11-27T00:00:00.000Z'), buildFindingsMappings().properties)).toEqual([]);
  });

  it('derives counts and the next revoke time', () => {
    const doc = buildFindingDocument(buildSampleFinding(), '2026-11-27T00:00:00.000Z') as Record<string, any>;
    expect(doc.calwatch.finding.reclaimable_cals).toBe(2);
    expect(doc.calwatch.finding.revoke_batch_count).toBe(2);
    expect(doc.calwatch.finding.next_revoke_at).toBe('2026-11-20T10:00:00.000Z');
    expect(doc.event.severity).toBe(4);
    expect(doc.host.name).toEqual(['VDI-001', 'VDI-002', 'VDI-003']);
  });

  it('takes counts from the finding, not from its bounded lists', () => {
    const ids = Array.from({ length: PUBLISHED_LIST_MAX }, (_, i) => 5_000 + i);
    const finding: Finding = {
      ...buildSampleFinding(),
      hwidCount: 1,
      computerCount: 2_000,
      licenseCount: 5_050,
      licenseIds: ids,
      leakedCals: 5_049,
      reclaimableLicenseIds: ids,
      revokePlan: [{ notBefore: '2026-11-20T10:00:00.000Z', count: 1_200, product: 'Windows Server 2022', licenseIds: ids }],
    };
    expect(Finding.safeParse(finding).success).toBe(true);
    const doc = buildFindingDocument(finding, '2026-11-27T00:00:00.000Z') as Record<string, any>;
    expect(doc.calwatch.finding).toMatchObject({ computer_count: 2_000, license_count: 5_050, leaked_cals: 5_049, reclaimable_cals: 5_049 });
    expect(doc.calwatch.finding.license_ids).toHaveLength(PUBLISHED_LIST_MAX);
    expect(doc.calwatch.finding.revoke_plan).toEqual([{ not_before: '2026-11-20T10:00:00.000Z', product: 'Windows Server 2022', license_ids: ids, license_count: 1_200 }]);
    expect(misfits(doc, buildFindingsMappings().properties)).toEqual([]);
  });

  it('refuses a finding whose lists exceed the bound', () => {
    const finding = { ...buildSampleFinding(), licenseIds: Array.from({ length: PUBLISHED_LIST_MAX + 1 }, (_, i) => i) };
    expect(Finding.safeParse(finding).success).toBe(false);
  });
});

describe('buildEnrichedDocument context', () => {
  it('takes the context counts from the event, not from its bounded lists', () => {
    const event = buildSampleLicenseEvent();
    const doc = buildEnrichedDocument({ ...event, context: { ...event.context, hwidLicenseCount: 5_000, computerHwidCount: 2_000 } }, '2026-11-27T00:00:00.000Z') as Record<string, any>;
    expect(doc.calwatch.context).toMatchObject({ hwid_license_count: 5_000, hwid_license_ids: [1001], computer_hwid_count: 2_000 });
  });
});

describe('buildRevocationDocument', () => {
  it('fits the revocations mapping and keeps the plan fields', () => {
    const revocation = buildSampleRevocation();
    expect(Revocation.safeParse(revocation).success).toBe(true);
    const doc = buildRevocationDocument(revocation, '2026-11-27T00:00:00.000Z') as Record<string, any>;
    expect(misfits(doc, buildRevocationsMappings().properties)).toEqual([]);
    expect(doc.calwatch.license_server).toBe('LS01');
    expect(doc.calwatch.revocation).toEqual({
      license_id: 18,
      finding_id: 'cloned-image:LS01:00000002abcd',
      kind: 'cloned-image',
      key_pack_id: 3,
      product_version: 'Windows Server 2022',
      batch: 1,
      not_before: '2026-11-20T10:00:00.000Z',
      expires_at: '2027-01-15T10:00:00.000Z',
      updated_at: '2026-11-20T10:00:00.000Z',
    });
  });
});

describe('buildFindingVersion', () => {
  const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true });
  const revision = fc.integer({ min: 0, max: 999_999 });

  it('orders by updatedAt, then revision, and fits a signed 64-bit long', () => {
    fc.assert(
      fc.property(instant, revision, instant, revision, (t1, r1, t2, r2) => {
        const a = BigInt(buildFindingVersion({ updatedAt: t1.toISOString(), revision: r1 }));
        const b = BigInt(buildFindingVersion({ updatedAt: t2.toISOString(), revision: r2 }));
        const expected = t1.getTime() === t2.getTime() ? Math.sign(r1 - r2) : Math.sign(t1.getTime() - t2.getTime());
        expect(Math.sign(Number(a - b))).toBe(expected);
        expect(a).toBeLessThan(2n ** 63n);
        expect(a).toBeGreaterThanOrEqual(0n);
      }),
    );
  });

  it('exceeds what a JS number holds exactly, hence the string', () => {
    const version = buildFindingVersion({ updatedAt: '2026-11-20T10:00:00.123Z', revision: 7 });
    expect(version).toBe('1795168800123000007');
    expect(BigInt(Number(version))).not.toBe(BigInt(version));
  });
});
