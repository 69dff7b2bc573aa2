import { describe, expect, it } from 'vitest';
import { CapturedOutput } from '../testing/captured-output';
import { createProgressBar, formatDuration, renderProgress, type ProgressState } from './progress';

const state: ProgressState = {
  bytesDone: 250,
  bytesTotal: 1_000,
  records: 12_345,
  rejected: 3,
  eventTimeMs: Date.parse('2024-03-01T12:34:00Z'),
  startedMs: 0,
  nowMs: 10_000,
};

describe('renderProgress', () => {
  it('shows bar, percent, records, rate, ETA and event time', () => {
    const line = renderProgress(state);
    expect(line).toContain('[######..................]  25%');
    expect(line).toContain('12,345 records (3 rejected)');
    expect(line).toContain('1,235/s');
    expect(line).toContain('ETA 0:30');
    expect(line).toContain('at 2024-03-01 12:34Z');
  });

  it('leaves the ETA out before there is a rate and once done', () => {
    expect(renderProgress({ ...state, nowMs: 500 })).not.toContain('ETA');
    expect(renderProgress({ ...state, bytesDone: 1_000 })).not.toContain('ETA');
  });
});

describe('formatDuration', () => {
  it('prints m:ss and h:mm:ss', () => {
    expect(formatDuration(65_000)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});

describe('createProgressBar', () => {
  it('draws in place on a terminal, at most every interval, and clears', () => {
    let now = 0;
    const out = new CapturedOutput(true);
    const bar = createProgressBar(out, { intervalMs: 100, now: () => now });
    now = 200;
    bar.update(state);
    bar.update(state);
    expect(out.text.match(/\r\x1b\[2K/g)).toHaveLength(1);
    now = 400;
    bar.update(state);
    bar.clear();
    expect(out.text.endsWith('\r\x1b[2K')).toBe(true);
  });

  it('writes nothing when the stream is not a terminal', () => {
    const out = new CapturedOutput(false);
    const bar = createProgressBar(out);
    bar.update(state);
    bar.clear();
    expect(out.text).toBe('');
  });
});
