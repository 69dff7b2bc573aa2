import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { DEFAULT_MIX_TEXT, buildFleetConfig, formatMix, mixMachineCount, parseDurationMs, parseMix } from './config';
import { SIMULATOR_ERRORS } from './errors';

describe('parseMix', () => {
  it('reads counts, groups and per-kind parameters', () => {
    const mix = parseMix('cloned=3x8, vdi=20,deleter=5/7,rebuild=10,duplicate=2x3,corrupted=2/4');
    expect(mix).toEqual({
      cloned: { groups: 3, size: 8 },
      vdi: { count: 20 },
      deleter: { count: 5, everyDays: 7 },
      rebuild: { count: 10 },
      duplicate: { groups: 2, size: 3 },
      corrupted: { count: 2, hwids: 4 },
    });
    expect(mixMachineCount(mix)).toBe(24 + 20 + 5 + 10 + 6 + 2);
  });

  it('round-trips through formatMix', () => {
    for (const text of [DEFAULT_MIX_TEXT, 'deleter=5/7,corrupted=2/4', 'none']) expect(formatMix(parseMix(text))).toBe(text);
  });

  it('takes defaults for left-out parameters and reads none or empty as a healthy fleet', () => {
    expect(parseMix('cloned=2').cloned).toEqual({ groups: 2, size: 2 });
    expect(parseMix('deleter=4').deleter).toEqual({ count: 4 });
    expect(mixMachineCount(parseMix('none'))).toBe(0);
    expect(mixMachineCount(parseMix(''))).toBe(0);
  });

  it('lists every problem in one SIMULATOR_MIX_INVALID', () => {
    let caught: unknown;
    try {
      parseMix('clones=3,vdi=2x2,cloned=1x1,rebuild=x,vdi=1');
    } catch (error) {
      caught = error;
    }
    expect(isCalwatchError(caught, 'SIMULATOR_MIX_INVALID')).toBe(true);
    const problems = (caught as { context: { problems: string[] } }).context.problems;
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/unknown kind/);
    expect(problems.join('\n')).toMatch(/at least 2 machines/);
    expect(problems.join('\n')).toMatch(/given twice/);
  });
});

describe('buildFleetConfig', () => {
  it('fills defaults; the pool defaults to 120 % of the machines', () => {
    const config = buildFleetConfig({ devices: 500, days: 30 });
    expect(config.pool).toBe(600);
    expect(config.seed).toBe(42);
    expect(config.start).toBe('2024-01-01T00:00:00.000Z');
    expect(formatMix(config.mix)).toBe(DEFAULT_MIX_TEXT);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses a mix larger than the fleet', () => {
    expect(() => buildFleetConfig({ devices: 10, days: 30, mix: parseMix('vdi=11') })).toThrowError(
      expect.objectContaining({ code: 'SIMULATOR_FLEET_TOO_SMALL' }),
    );
  });

  it('lists every invalid setting at once', () => {
    let caught: unknown;
    try {
      buildFleetConfig({ devices: 0, days: -1, seed: -5, licenseServer: 'bad name!' });
    } catch (error) {
      caught = error;
    }
    expect(isCalwatchError(caught, 'SIMULATOR_CONFIG_INVALID')).toBe(true);
    expect((caught as { context: { issues: unknown[] } }).context.issues).toHaveLength(4);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['30m', 1_800_000],
    ['6h', 21_600_000],
    ['1d', 86_400_000],
    ['2w', 1_209_600_000],
  ])('%s', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '0d', '1y', '1.5d', 'd'])('rejects %j', (text) => expect(parseDurationMs(text)).toBeUndefined());
});

describe('simulator error codes', () => {
  it('are prefixed, unique and documented', () => {
    for (const [code, spec] of Object.entries(SIMULATOR_ERRORS.table)) {
      expect(code).toMatch(/^SIMULATOR_[A-Z_]+$/);
      expect(spec.description.length).toBeGreaterThan(20);
      expect(spec.retriable).toBe(false);
    }
  });
});
