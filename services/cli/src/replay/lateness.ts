import { parseCoreConfig, resolveDetectionConfig, type CoreConfig } from '@calwatch/processor';
import type { ReplayInput } from './inputs';

const HOUR_MS = 3_600_000;

/**
 * The longest time between two consecutive snapshot exports of the inputs. A snapshot's
 * lifecycle events carry their own times (issue dates), up to one such gap before the
 * snapshot: that is how late they reach the processor behind the events sent meanwhile.
 */
export function largestSnapshotGapMs(inputs: readonly ReplayInput[]): number {
  const times = [...new Set(inputs.filter((i) => i.role === 'issued-snapshot').map((i) => Date.parse(i.snapshotTime)))].sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i += 1) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

/**
 * Detection settings of an in-process processor for a replay: the user's
 * PROCESSOR_DETECTION_CONFIG when set, else the defaults with
 * - an allowed lateness of two snapshot gaps (at least the default hour), so events
 *   derived from a snapshot are ordered in rather than dead-lettered as too late;
 * - every finding update sent (emit.refreshDays 0): live, updates that only move the
 *   evidence are held back for a day, and a replay ends with nothing to bring them out;
 *   this way its last revisions are exact as of the last record, as `analyze`'s are.
 */
export function buildReplayDetection(
  configured: string | undefined,
  inputs: readonly ReplayInput[],
  readText: (path: string) => string,
): { detection: CoreConfig; note: string } {
  if (configured !== undefined && configured.trim() !== '') {
    const detection = resolveDetectionConfig(configured, readText);
    return { detection, note: `allowed lateness ${formatHours(detection.lateness.allowedLatenessMs)} (PROCESSOR_DETECTION_CONFIG)` };
  }
  const gap = largestSnapshotGapMs(inputs);
  const allowedLatenessMs = Math.max(HOUR_MS, 2 * gap);
  return {
    detection: parseCoreConfig({ lateness: { allowedLatenessMs }, emit: { refreshDays: 0 } }),
    note:
      `allowed lateness ${formatHours(allowedLatenessMs)} (twice the largest gap between snapshots), every finding update sent; ` +
      'set PROCESSOR_DETECTION_CONFIG to choose',
  };
}

function formatHours(ms: number): string {
  const hours = ms / HOUR_MS;
  return hours >= 48 ? `${(hours / 24).toFixed(hours % 24 === 0 ? 0 : 1)} days` : `${hours.toFixed(hours % 1 === 0 ? 0 : 1)} h`;
}
