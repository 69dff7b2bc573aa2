import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@calwatch/model';
import { simulateFleet } from '@calwatch/simulator';
import type { ByServerState } from './by-server';
import { parseCoreConfig } from './config';
import { createPipeline } from './pipeline';

const DAY = 86_400_000;

describe("a server's claims", () => {
  it('are always the CALs of its open findings, batch by batch, whether a replan edited them or kept them', () => {
    const simulation = simulateFleet({ devices: 3000, days: 120, seed: 21, snapshotIntervalMs: 7 * DAY });
    const events: CanonicalEvent[] = [...simulation.events()];
    let checked = 0;
    let planned = 0;
    const pipeline = createPipeline(parseCoreConfig({}), {
      onStateChange: (stage, key) => {
        if (stage !== 'by-server') return;
        const state = pipeline.stateOf(stage, key) as ByServerState | undefined;
        if (state === undefined) return;
        const expected: Record<string, string> = {};
        for (const [id, entry] of Object.entries(state.open)) for (const b of entry.batches) for (const l of b.licenseIds) expected[l] = id;
        expect(state.plan.claims).toEqual(expected);
        checked++;
        planned = Math.max(planned, Object.keys(expected).length);
      },
    });
    for (const event of events) pipeline.apply(event);
    pipeline.advanceTo(Date.parse(simulation.config.start) + 120 * DAY);
    pipeline.flush();
    expect(checked).toBeGreaterThan(1000);
    expect(planned).toBeGreaterThan(20);
  }, 60_000);
});
