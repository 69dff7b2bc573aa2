import { describe, expect, it } from 'vitest';
import { type CanonicalEvent, DeadLetter, type Finding } from '@calwatch/model';
import { simulateFleet } from '@calwatch/simulator';
import { parseCoreConfig } from '../core/index';
import { createInMemoryTopology } from '../testing/in-memory-topology';

const config = parseCoreConfig({});
const FUTURE = '2999-01-01T00:00:00.000Z';

/** A simulated fleet's events in time order, as the collector publishes them. */
const fleet: CanonicalEvent[] = [...simulateFleet({ devices: 80, days: 90, seed: 7 }).events()];
const newestMs = Math.max(...fleet.map((e) => Date.parse(e.eventTime)));

function run(events: readonly CanonicalEvent[]) {
  // Records are stamped (Kafka timestamp) a day after the newest real event, as a live collector would.
  const topology = createInMemoryTopology({ partitions: 3, config, nowMs: newestMs + 86_400_000 });
  topology.publish(events);
  topology.settle();
  const letters = topology.records(topology.topics.deadLetter).map((r) => DeadLetter.parse(JSON.parse(r.value!.toString())));
  return { topology, findings: topology.findings(), letters };
}

const whole = (findings: Map<string, Finding>) => Object.fromEntries([...findings].sort(([a], [b]) => (a < b ? -1 : 1)));
const open = (findings: Map<string, Finding>) => [...findings.values()].filter((f) => f.state === 'open').length;

describe('one event dated 2999 on a simulated fleet', () => {
  // An early lifecycle event of the fleet's license server.
  const index = fleet.findIndex((e, i) => i > 10 && e.type === 'license.issued');
  const original = fleet[index]!;
  const without = run(fleet.filter((_, i) => i !== index));

  it('has findings to lose', () => {
    expect(open(without.findings)).toBeGreaterThan(5);
    expect(without.letters).toEqual([]);
  });

  for (const where of ['in its place', 'last'] as const) {
    it(`arriving ${where}, is dead-lettered and leaves the findings of the run without it`, { timeout: 60_000 }, () => {
      const bad = { ...original, eventTime: FUTURE };
      const rest = fleet.filter((_, i) => i !== index);
      const events = where === 'last' ? [...rest, bad] : fleet.map((e, i) => (i === index ? bad : e));
      const withBad = run(events);
      expect(whole(withBad.findings)).toEqual(whole(without.findings));
      expect(withBad.letters.map((l) => l.code)).toEqual(['PROCESSOR_EVENT_TIME_AHEAD']);
      expect(JSON.parse(Buffer.from(withBad.letters[0]!.originalBase64, 'base64').toString())).toEqual(bad);
      expect(withBad.topology.metrics.timeAhead).toBe(1);
      expect(withBad.topology.metrics.tooLate).toBe(0);
      for (const status of withBad.topology.status()) {
        if (status['maxEventTime'] !== null) expect(status['maxEventTime'] as number).toBeLessThanOrEqual(newestMs);
      }
    });
  }
});
