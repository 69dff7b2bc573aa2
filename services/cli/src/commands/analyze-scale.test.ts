import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSnapshots, diffSnapshot, parseFile } from '@calwatch/ingest';
import { type CanonicalEvent } from '@calwatch/model';
import { SCALE_EXPORT_TAKEN_AT, writeScaleExport } from '@calwatch/simulator';
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import { CapturedOutput } from '../testing/captured-output';
import { command } from './analyze';

const ROWS = 300_000;

/**
 * The findings of the plain path for the same export: every row read as a LicenseFact,
 * diffSnapshot's events sorted by (event time, id) and fed to the core's pipeline.
 */
async function pipelineFindings(file: string) {
  const takenAt = SCALE_EXPORT_TAKEN_AT;
  const collected = await collectSnapshots(parseFile(file, { observedTime: takenAt }), { takenAt, source: { kind: 'wmi-issued-licenses', ref: file } });
  expect(collected.issued).toHaveLength(1);
  const events: CanonicalEvent[] = diffSnapshot(undefined, collected.issued[0]!).events;
  events.sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.eventId < b.eventId ? -1 : 1));
  const pipeline = createPipeline(parseCoreConfig({}));
  for (const event of events) expect(pipeline.apply(event).status).toBe('accepted');
  pipeline.advanceTo(takenAt);
  pipeline.flush();
  return pipeline
    .findings()
    .filter((f) => f.state === 'open')
    .map((f) => ({
      id: f.id,
      kind: f.kind,
      status: f.status ?? 'active',
      severity: f.severity,
      licenseServer: f.licenseServer,
      productVersion: f.productVersion,
      hwidCount: f.hwidCount,
      hwids: f.hwids,
      computerCount: f.computerCount,
      computers: f.computers,
      licenseCount: f.licenseCount,
      licenseIds: f.licenseIds,
      leakedCals: f.leakedCals,
      reclaimableLicenseIds: f.reclaimableLicenseIds,
      revokePlan: f.revokePlan,
      firstSeen: f.firstSeen,
      lastSeen: f.lastSeen,
      summary: f.summary,
      remediation: f.remediation,
      timeline: f.timeline,
    }));
}

describe(`calwatch analyze on a ${ROWS.toLocaleString('en-US')}-row export`, () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-scale-'));
    file = join(dir, 'issued-licenses_20260630T120000Z.csv');
    // Beyond where spreading the events into a call overflowed the stack (~125k). Fewer leaking
    // devices than the benchmark's fleet, so that the detection core runs twice in reasonable time.
    await writeScaleExport(file, { rows: ROWS, clonedShare: 0.01, rowsPerImage: 200, churnShare: 0.01, rowsPerChurner: 50 });
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 with the findings of the pipeline fed the same events', async () => {
    const stdout = new CapturedOutput();
    const stderr = new CapturedOutput();
    const code = await command.run(['--format', 'json', '--as-of', SCALE_EXPORT_TAKEN_AT, file], {
      stdout,
      stderr,
      env: {},
      cwd: dir,
      signal: new AbortController().signal,
    });
    expect(stderr.text).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout.text) as {
      summary: { recordsRead: number; events: number; rejected: { total: number }; byKind: Record<string, number> };
      findings: unknown[];
    };
    expect(report.summary).toMatchObject({ recordsRead: ROWS, events: ROWS, rejected: { total: 0 } });
    // 15 images reissued ~200 times each, 60 names with ~50 HWIDs each.
    expect(report.summary.byKind).toEqual({ 'cloned-image': 15, 'hwid-churn': 60 });
    expect(report.findings).toEqual(await pipelineFindings(file));
  }, 180_000);
});
