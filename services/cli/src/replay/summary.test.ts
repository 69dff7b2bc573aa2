import { describe, expect, it } from 'vitest';
import { emptyTotals } from './checkpoint';
import type { InputPlan } from './inputs';
import type { ReplayRunResult } from './replay-run';
import { countDeadLettersByCode } from './dead-letters';
import { renderReplaySummary } from './summary';

const plan: InputPlan = {
  inputs: [
    { path: '/a.csv', display: 'a.csv', size: 1, mtimeMs: 0, gzip: false, format: 'wmi-issued-licenses', container: 'csv', role: 'issued-snapshot', snapshotTime: '2024-01-01T00:00:00.000Z', snapshotTimeFrom: 'name' },
    { path: '/e.ndjson', display: 'e.ndjson', size: 1, mtimeMs: 0, gzip: false, format: 'winlogbeat', container: 'ndjson', role: 'events', snapshotTime: '2024-01-01T00:00:00.000Z', snapshotTimeFrom: 'mtime' },
  ],
  skipped: [{ display: 'README', reason: 'unknown format' }],
  totalBytes: 2,
};

const result = (over: Partial<ReplayRunResult> = {}): ReplayRunResult => ({
  totals: { ...emptyTotals(), records: 1_234, accepted: 1_230, rejected: 4, events: 99, snapshots: 1, rejectedByCode: { INGEST_JSON_SYNTAX: { count: 4, example: 'e.ndjson line 3: not valid JSON' } } },
  run: { ...emptyTotals(), records: 234 },
  interrupted: false,
  resumed: null,
  nothingLeft: false,
  durationMs: 65_000,
  firstEventTimeMs: Date.parse('2024-01-01T00:00:00Z'),
  lastEventTimeMs: Date.parse('2024-01-02T00:00:00Z'),
  ...over,
});

describe('renderReplaySummary', () => {
  it('tells records, rejections by code, events, findings, duration and where to resume', () => {
    const text = renderReplaySummary({
      plan,
      result: result({ interrupted: true, resumed: { runs: 1, inputsDone: 1, recordsBefore: 1_000 } }),
      target: 'topics calwatch.replay.x.*',
      checkpointPath: '/state/cp.json',
      findings: { open: 3, resolved: 1, byKind: { 'cloned-image': { open: 3, resolved: 1, leakedCals: 7 } }, leakedCals: 7, reclaimableCals: 6 },
      drained: true,
    });
    expect(text).toContain('calwatch replay: interrupted in 1:05 -> topics calwatch.replay.x.*');
    expect(text).toContain('2 files (1 snapshot exports, 1 event files); skipped 1: README (unknown format)');
    expect(text).toContain('resumed:   run 2; 1 inputs and 1,000 records were done before');
    expect(text).toContain('1,234 read, 1,230 accepted, 4 rejected (this run: 234 read)');
    expect(text).toMatch(/INGEST_JSON_SYNTAX +4 {2}e\.g\. e\.ndjson line 3/);
    expect(text).toContain('findings:  3 open, 1 resolved; 7 leaked CALs, 6 reclaimable');
    expect(text).toContain('checkpoint: /state/cp.json (continue with --resume)');
  });

  it('says when the pipeline had not caught up', () => {
    const text = renderReplaySummary({ plan, result: result(), target: 't', findings: { open: 0, resolved: 0, byKind: {}, leakedCals: 0, reclaimableCals: 0 }, drained: false });
    expect(text).toContain('NOT drained');
    expect(text).toContain('calwatch replay: done in 1:05');
  });
});

describe('dead letters in the summary', () => {
  it('counts the topic by code, undecodable records included, and lists them', () => {
    const letter = (code: string) => ({
      value: Buffer.from(
        JSON.stringify({ schemaVersion: 1, at: '2024-01-01T00:00:00.000Z', code, reason: 'r', location: { ref: 'x', line: null, record: null, field: null }, issues: [], originalBase64: '' }),
      ),
    });
    const counts = countDeadLettersByCode([letter('PROCESSOR_EVENT_TOO_LATE'), letter('PROCESSOR_EVENT_TIME_AHEAD'), letter('PROCESSOR_EVENT_TOO_LATE'), { value: Buffer.from('{') }, { value: null }]);
    expect(Object.fromEntries(counts)).toEqual({ PROCESSOR_EVENT_TOO_LATE: 2, PROCESSOR_EVENT_TIME_AHEAD: 1, '(undecodable)': 2 });
    const text = renderReplaySummary({ plan, result: result(), target: 't', deadLetters: { PROCESSOR_EVENT_TOO_LATE: 2, PROCESSOR_EVENT_TIME_AHEAD: 1 } });
    expect(text).toContain('dead letters in the topic: 3 by code:');
    expect(text).toMatch(/PROCESSOR_EVENT_TOO_LATE +2/);
    expect(text).toMatch(/PROCESSOR_EVENT_TIME_AHEAD +1/);
  });
});
