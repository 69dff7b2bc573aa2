import { describe, expect, it } from 'vitest';
import { NamespaceName, loadReplayConfig, namespacePrefixes, parseWallDuration, slugOf } from './config';

describe('replay config', () => {
  it('reads wall durations', () => {
    expect(parseWallDuration('20s')).toBe(20_000);
    expect(parseWallDuration('3m')).toBe(180_000);
    expect(parseWallDuration('1.5h')).toBe(5_400_000);
    expect(parseWallDuration('250ms')).toBe(250);
    expect(parseWallDuration('0s')).toBeUndefined();
    expect(parseWallDuration('3 minutes')).toBeUndefined();
  });

  it('derives a namespace\'s topics, indices and groups', () => {
    expect(namespacePrefixes('q3-audit')).toEqual({
      topicPrefix: 'calwatch.replay.q3-audit.',
      indexPrefix: 'calwatch-replay-q3-audit-',
      groupPrefix: 'calwatch-replay-q3-audit',
    });
    expect(NamespaceName.safeParse('q3-audit').success).toBe(true);
    for (const bad of ['', 'Q3', 'a.b', '-x', 'a'.repeat(49)]) expect(NamespaceName.safeParse(bad).success).toBe(false);
  });

  it('names checkpoints after the target', () => {
    expect(slugOf('kafka:calwatch.replay.x.')).toBe('calwatch.replay.x');
    expect(slugOf('http://127.0.0.1:8080/')).toBe('127.0.0.1_8080');
  });

  it('keeps state under XDG_STATE_HOME unless told otherwise', () => {
    expect(loadReplayConfig({ XDG_STATE_HOME: '/s', HOME: '/h' }).replayDir).toBe('/s/calwatch/replay');
    expect(loadReplayConfig({ HOME: '/h' }).stateDir).toBe('/h/.local/state/calwatch');
  });
});
