import { describe, expect, it } from 'vitest';
import { createStabilityTracker, isIgnoredDropFile } from './file-stability';

describe('stability tracker', () => {
  it('is ready once size and mtime stayed the same for the window', () => {
    const tracker = createStabilityTracker(1000);
    expect(tracker.observe('a.csv', { size: 10, mtimeMs: 1 }, 0)).toBe(false);
    expect(tracker.observe('a.csv', { size: 10, mtimeMs: 1 }, 500)).toBe(false);
    expect(tracker.observe('a.csv', { size: 20, mtimeMs: 2 }, 900)).toBe(false);
    expect(tracker.observe('a.csv', { size: 20, mtimeMs: 2 }, 1800)).toBe(false);
    expect(tracker.observe('a.csv', { size: 20, mtimeMs: 2 }, 1900)).toBe(true);
  });

  it('forgets files that are gone', () => {
    const tracker = createStabilityTracker(10);
    tracker.observe('a', { size: 1, mtimeMs: 1 }, 0);
    tracker.retain(new Set());
    expect(tracker.observe('a', { size: 1, mtimeMs: 1 }, 100)).toBe(false);
  });

  it('with a zero window, any observed file is ready', () => {
    expect(createStabilityTracker(0).observe('a', { size: 1, mtimeMs: 1 }, 0)).toBe(true);
  });
});

describe('isIgnoredDropFile', () => {
  it('skips hidden, temporary and report files', () => {
    expect(['.x.csv', 'a.csv.tmp', 'a.partial', 'a.csv.error.json', 'a.csv.report.json'].map(isIgnoredDropFile)).toEqual([true, true, true, true, true]);
    expect(['a.csv', 'events.ndjson.gz', 'x.xml'].map(isIgnoredDropFile)).toEqual([false, false, false]);
  });
});
