import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@calwatch/model';
import { simulateFleet } from '@calwatch/simulator';
import { parseCoreConfig } from './config';
import { createPipeline } from './pipeline';

const DAY = 86_400_000;

describe('a pipeline that builds no enriched events', () => {
  it('finds, plans and keeps exactly what the one that builds them does', () => {
    const simulation = simulateFleet({ devices: 1500, days: 90, seed: 5, snapshotIntervalMs: 7 * DAY });
    const events: CanonicalEvent[] = [...simulation.events()];
    const end = Date.parse(simulation.config.start) + 90 * DAY;
    const run = (enriched: boolean) => {
      const outputs: unknown[] = [];
      let enrichedEvents = 0;
      const pipeline = createPipeline(
        parseCoreConfig({}),
        {
          onFinding: (f) => outputs.push(f),
          onRevocation: (r, key) => outputs.push([key, r]),
          onEnriched: () => enrichedEvents++,
        },
        undefined,
        { enriched },
      );
      for (const event of events) pipeline.apply(event);
      pipeline.advanceTo(end);
      pipeline.flush();
      return { outputs, enrichedEvents, snapshot: JSON.stringify(pipeline.snapshot()) };
    };
    const withEnriched = run(true);
    const without = run(false);
    expect(withEnriched.enrichedEvents).toBe(events.length);
    expect(without.enrichedEvents).toBe(0);
    expect(without.outputs.length).toBeGreaterThan(10);
    expect(without.outputs).toStrictEqual(withEnriched.outputs);
    expect(without.snapshot).toBe(withEnriched.snapshot);
  }, 60_000);
});
