import { describe, expect, it } from 'vitest';
import { buildFleetConfig, mixMachineCount } from '@calwatch/simulator';
import { MIN_DEMO_DEVICES, buildDemoFleetConfig } from './fleet';

describe('buildDemoFleetConfig', () => {
  it('holds every leak cause, a pool that runs short, and a window ending now', () => {
    const now = Date.parse('2026-06-01T12:34:56Z');
    for (const devices of [MIN_DEMO_DEVICES, 300]) {
      const config = buildFleetConfig(buildDemoFleetConfig({ devices, days: 60, seed: 1 }, now));
      const mix = config.mix;
      expect([mix.cloned.groups, mix.vdi.count, mix.deleter.count, mix.rebuild.count, mix.duplicate.groups, mix.corrupted.count].every((n) => n > 0)).toBe(true);
      expect(mixMachineCount(mix)).toBeLessThan(devices);
      expect(config.pool).toBeLessThan(devices);
      const end = Date.parse(config.start) + 60 * 86_400_000;
      expect(now - end).toBeGreaterThanOrEqual(0);
      expect(now - end).toBeLessThan(60_000);
    }
  });
});
