/**
 * A drained processor goes quiet on the real broker: with live events waiting out the
 * allowed lateness in its buffers, punctuations write nothing to the changelog or the
 * output topics, and the wall clock still releases held events once it reaches them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaClient, createKafkaClient } from '@calwatch/kafka';
import { type CanonicalEvent } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createProcessorService, loadProcessorConfig, parseCoreConfig } from '@calwatch/processor';
import { createTimelineKit } from '@calwatch/processor/testing';
import { getTestServices } from '../harness/services';
import { type Namespace, byTime, collect, createNamespace, publish } from './processor-helpers';
import { waitFor } from '../harness/wait-for';

const PARTITIONS = 3;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** How long a drained processor is watched for writes: ten punctuations at the harness's 200 ms. */
const QUIET_WINDOW_MS = 2_000;
let kafka: KafkaClient;
let ns: Namespace;

beforeAll(async () => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  ns = await createNamespace(kafka, PARTITIONS, 'quiet');
});

afterAll(async () => {
  await ns.remove();
});

/** One device per events partition (pinned), issued at `atMs`. */
function onEveryPartition(server: string, atMs: number, base: number): Array<{ event: CanonicalEvent; partition: number }> {
  const kit = createTimelineKit({ server, start: new Date(atMs).toISOString() });
  return Array.from({ length: PARTITIONS }, (_, p) => ({
    event: kit.issue(base + p, { hwid: `${(base + p).toString(16)}e`, computer: `PC-${server}-${p}`, day: 0 }),
    partition: p,
  }));
}

describe('a drained processor on a real broker', () => {
  it('writes nothing while live events wait out the lateness, and releases them when the clock reaches them', async () => {
    const now = Date.now();
    // History: a cloned image a month ago.
    const old = createTimelineKit({ server: 'LS-QUIET', start: new Date(now - 30 * 24 * HOUR).toISOString() });
    const history = [
      old.issue(1, { hwid: 'aa01', computer: 'PC-A', day: 0 }),
      old.issue(2, { hwid: 'aa01', computer: 'PC-B', day: 1 }),
      old.issue(3, { hwid: 'aa01', computer: 'PC-A', day: 2 }),
      old.issue(4, { hwid: 'aa01', computer: 'PC-B', day: 3 }),
    ];
    // Reached by the wall clock (now - allowed lateness) a few seconds into the test.
    const soon = onEveryPartition('LS-SOON', now - HOUR + 8_000, 0x500);
    // Held for most of an hour: the buffers stay non-empty for the whole test.
    const recent = onEveryPartition('LS-RECENT', now - 5 * MINUTE, 0x700);
    await publish(kafka, ns.topics, byTime(history));
    for (const { event, partition } of [...soon, ...recent]) await publish(kafka, ns.topics, [event], partition);

    const enriched = await collect(kafka, ns.topics.enriched);
    const service = createProcessorService({ config: loadProcessorConfig(ns.env()), detection: parseCoreConfig({}), logger: createSilentLogger(), kafka });
    await service.start();
    const admin = await kafka.createAdmin();
    try {
      const watched = [ns.topics.processorChangelog, ns.topics.findings, ns.topics.enriched, ns.topics.deadLetter];
      const ends = async () => {
        const parts: string[] = [];
        for (const topic of watched) parts.push(`${topic}=${(await admin.endOffsets(topic)).map((e) => e.offset).join(',')}`);
        return parts.join(' ');
      };
      const enrichedIds = () => new Set(enriched.records.map((r) => (JSON.parse(r.value!.toString()) as { event: { eventId: string } }).event.eventId));

      // The wall clock passes the `soon` events: they come out without any new input.
      await waitFor(() => (soon.every(({ event }) => enrichedIds().has(event.eventId)) ? true : undefined), 30_000, 'the events the clock reached');
      expect(recent.some(({ event }) => enrichedIds().has(event.eventId))).toBe(false);

      // Then nothing moves: three seconds (fifteen punctuations) with the same log ends.
      let quietSince = Date.now();
      let last = await ends();
      await waitFor(
        async () => {
          const current = await ends();
          if (current !== last) {
            last = current;
            quietSince = Date.now();
          }
          return Date.now() - quietSince >= 3_000 ? true : undefined;
        },
        20_000,
        'the processor topics to stop growing',
      );
      const before = service.stats();
      // The behaviour under test is a stretch of time: punctuations keep running through it
      // and must write nothing, so the test watches for that long.
      await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
      expect(await ends()).toBe(last);
      const after = service.stats();
      expect(after.punctuationsWritten).toBe(before.punctuationsWritten);
      // The live case it is about: the recent events still wait in every events task.
      const held = service.tasks().filter((t) => String(t.task).startsWith(`${ns.topics.events}:`));
      expect(held.map((t) => t.buffered)).toEqual(Array.from({ length: PARTITIONS }, () => 1));
      expect(after.deadLettered).toBe(0);
    } finally {
      await admin.close();
      await service.stop();
      await enriched.stop();
    }
  });
});
