import { parseMix, type FleetConfigInput } from '@calwatch/simulator';

const DAY_MS = 86_400_000;

/** Every leak cause, sized for a few hundred machines (and a smaller one for short runs). */
const LARGE_MIX = 'cloned=3x6,vdi=15,deleter=5/4,rebuild=8,duplicate=2x2,corrupted=3';
const SMALL_MIX = 'cloned=2x3,vdi=5,deleter=2/3,rebuild=3,duplicate=1x2,corrupted=2';

/** The smallest fleet that holds the small mix with healthy machines around it. */
export const MIN_DEMO_DEVICES = 30;

export interface DemoFleetSettings {
  devices: number;
  days: number;
  seed: number;
}

/**
 * The demo's simulated fleet: every leak cause, a pool of three quarters of the machines
 * so it runs dry (pool exhaustion), daily snapshots, and a window that ends now, so the
 * notifier treats what it sees as current.
 */
export function buildDemoFleetConfig(settings: DemoFleetSettings, nowMs: number): FleetConfigInput {
  const startMs = Math.floor((nowMs - settings.days * DAY_MS) / 60_000) * 60_000;
  return {
    seed: settings.seed,
    devices: settings.devices,
    days: settings.days,
    start: new Date(startMs).toISOString(),
    mix: parseMix(settings.devices >= 200 ? LARGE_MIX : SMALL_MIX),
    pool: Math.round(settings.devices * 0.75),
    snapshotIntervalMs: DAY_MS,
  };
}
