import { describe, expect, it } from 'vitest';
import type { IncomingRecord } from '@calwatch/kafka';
import { planBatch, type InputKind } from './batch-plan';
import { buildIndexNames } from './index-names';
import { buildSampleFinding, buildSampleLicenseEvent, buildSampleRevocation } from './testing/samples';

const names = buildIndexNames('calwatch-');
const topics = new Map<string, InputKind>([
  ['calwatch.findings', 'findings'],
  ['calwatch.enriched', 'enriched'],
  ['calwatch.revocations', 'revocations'],
]);
let offset = 0;

function record(topic: string, value: unknown): IncomingRecord {
  return {
    topic,
    partition: 0,
    offset: String(offset++),
    key: null,
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    timestamp: '0',
  };
}

const plan = (records: IncomingRecord[]) => planBatch(records, { names, topics, now: '2026-11-27T00:00:00.000Z' });

describe('planBatch', () => {
  it('routes findings to the findings index with a version and events to their month index', () => {
    const result = plan([record('calwatch.findings', buildSampleFinding()), record('calwatch.enriched', buildSampleLicenseEvent({ eventTime: '2025-03-04T05:06:07.000Z' }))]);
    expect(result.invalid).toEqual([]);
    expect(result.actions.map((a) => [a.index, a.version !== undefined])).toEqual([
      ['calwatch-findings-v1', true],
      ['calwatch-enriched-v1-2025.03', false],
    ]);
    expect(result.actions[0]!.id).toBe('cloned-image:LS01:00000002abcd');
  });

  it('sets aside empty, non-JSON and schema-invalid records with their own codes', () => {
    const finding = buildSampleFinding();
    const { actions, invalid } = plan([
      record('calwatch.findings', null),
      record('calwatch.enriched', '{not json'),
      record('calwatch.findings', { ...finding, kind: 'made-up' }),
      record('calwatch.enriched', { schemaVersion: 1, event: {} }),
      record('calwatch.findings', { ...finding, id: 'x'.repeat(513) }),
    ]);
    expect(actions).toEqual([]);
    expect(invalid.map((d) => d.code)).toEqual([
      'INDEXER_EMPTY_RECORD',
      'INDEXER_INVALID_JSON',
      'INDEXER_INVALID_FINDING',
      'INDEXER_INVALID_ENRICHED_EVENT',
      'INDEXER_INVALID_FINDING',
    ]);
    expect(invalid[2]!.issues.some((i) => i.path === 'kind')).toBe(true);
  });

  it('keeps the newest update of a finding within a batch, whatever the order', () => {
    const newer = buildSampleFinding({ revision: 5, updatedAt: '2026-11-20T11:00:00.000Z' });
    const older = buildSampleFinding({ revision: 9, updatedAt: '2026-11-20T10:00:00.000Z' });
    const result = plan([record('calwatch.findings', newer), record('calwatch.findings', older)]);
    expect(result.actions).toHaveLength(1);
    expect(result.superseded).toBe(1);
    expect((result.actions[0]!.document as any).calwatch.finding.revision).toBe(5);
  });

  it('writes one revocation document per license and deletes it once withdrawn', () => {
    const withdrawn = { schemaVersion: 1, state: 'withdrawn', licenseServer: 'LS01', licenseId: 18, findingId: 'f', kind: 'cloned-image', reason: 'left-plan', updatedAt: '2026-11-21T10:00:00.000Z' };
    const result = plan([
      record('calwatch.revocations', buildSampleRevocation(18)),
      record('calwatch.revocations', buildSampleRevocation(19)),
      record('calwatch.revocations', buildSampleRevocation(18, { batch: 2 })),
      record('calwatch.revocations', withdrawn),
      record('calwatch.revocations', { ...withdrawn, licenseId: 20 }),
      record('calwatch.revocations', { ...withdrawn, state: 'maybe' }),
    ]);
    expect(result.actions.map((a) => [a.index, a.id, a.delete === true, a.version])).toEqual([
      ['calwatch-revocations-v1', 'LS01|18', true, undefined],
      ['calwatch-revocations-v1', 'LS01|19', false, undefined],
      ['calwatch-revocations-v1', 'LS01|20', true, undefined],
    ]);
    expect(result.superseded).toBe(2);
    expect(result.invalid.map((d) => d.code)).toEqual(['INDEXER_INVALID_REVOCATION']);
  });

  it('reads a version 1 finding still on the topic, bounded to version 2', () => {
    const { hwidCount: _h, computerCount: _c, licenseCount: _l, ...rest } = buildSampleFinding();
    const v1 = { ...rest, schemaVersion: 1, revokePlan: [{ notBefore: '2026-11-20T10:00:00.000Z', licenseIds: [18, 19] }] };
    const result = plan([record('calwatch.findings', v1)]);
    expect(result.invalid).toEqual([]);
    const doc = result.actions[0]!.document as any;
    expect(doc.calwatch.schema_version).toBe(2);
    expect(doc.calwatch.finding).toMatchObject({ computer_count: 3, license_count: 3 });
  });

  it('writes a redelivered event once', () => {
    const event = buildSampleLicenseEvent({ seq: 4 });
    const result = plan([record('calwatch.enriched', event), record('calwatch.enriched', event)]);
    expect(result.actions).toHaveLength(1);
    expect(result.superseded).toBe(1);
  });
});
