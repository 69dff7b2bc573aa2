import { describe, expect, it } from 'vitest';
import type { ReplayInput } from './inputs';
import { buildReplayDetection, largestSnapshotGapMs } from './lateness';

const snapshot = (time: string, role: ReplayInput['role'] = 'issued-snapshot'): ReplayInput => ({
  path: `/x/${time}-${role}`,
  display: time,
  size: 1,
  mtimeMs: 0,
  gzip: false,
  format: role === 'events' ? 'winlogbeat' : 'wmi-issued-licenses',
  container: 'csv',
  role,
  snapshotTime: time,
  snapshotTimeFrom: 'name',
});

describe('replay lateness', () => {
  it('finds the largest gap between issued-license snapshots', () => {
    const inputs = [
      snapshot('2024-01-01T00:00:00.000Z'),
      snapshot('2024-01-02T00:00:00.000Z'),
      snapshot('2024-01-02T00:00:00.000Z', 'keypack-snapshot'),
      snapshot('2024-01-05T00:00:00.000Z'),
      snapshot('2024-02-01T00:00:00.000Z', 'events'),
    ];
    expect(largestSnapshotGapMs(inputs)).toBe(3 * 86_400_000);
    expect(largestSnapshotGapMs([snapshot('2024-01-01T00:00:00.000Z')])).toBe(0);
  });

  it('allows two gaps of lateness and sends every finding update, unless configured', () => {
    const inputs = [snapshot('2024-01-01T00:00:00.000Z'), snapshot('2024-01-02T00:00:00.000Z')];
    const chosen = buildReplayDetection(undefined, inputs, () => '');
    expect(chosen.detection.lateness.allowedLatenessMs).toBe(2 * 86_400_000);
    expect(chosen.detection.emit.refreshDays).toBe(0);
    expect(chosen.note).toContain('2 days');
    expect(buildReplayDetection(undefined, [], () => '').detection.lateness.allowedLatenessMs).toBe(3_600_000);
    const configured = buildReplayDetection('{"lateness":{"allowedLatenessMs":60000}}', inputs, () => '');
    expect(configured.detection.lateness.allowedLatenessMs).toBe(60_000);
    expect(configured.detection.emit.refreshDays).toBe(1);
    expect(configured.note).toContain('PROCESSOR_DETECTION_CONFIG');
  });
});
