/**
 * The processor on a real broker, in process: events in, findings out, equal to what the
 * in-process pipeline finds; records it cannot apply end on the dead-letter topic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaClient } from '@calwatch/kafka';
import { type CanonicalEvent, DeadLetter, isCalwatchError } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createProcessorService, loadProcessorConfig, parseCoreConfig } from '@calwatch/processor';
import { createTimelineKit } from '@calwatch/processor/testing';
import { getTestServices, uniqueName } from '../harness/services';
import {
  type Namespace,
  byTime,
  closingEvents,
  collect,
  createNamespace,
  publish,
  publishClosing,
  readFindings,
  referenceFindings,
  verdicts,
} from './processor-helpers';
import { waitFor } from '../harness/wait-for';

const PARTITIONS = 3;
let kafka: KafkaClient;
let ns: Namespace;

/** A cloned image (A/B/A/B on one HWID) and a rebuilt device (new HWID, old CAL orphaned). */
function handBuiltTimeline(): CanonicalEvent[] {
  const kit = createTimelineKit({ server: 'LS-INT' });
  return [
    kit.keyPack({ day: 0, keyPackId: 1, total: 40, available: 12 }),
    kit.issue(1, { hwid: 'aa01', computer: 'PC-A', day: 0 }),
    kit.issue(2, { hwid: 'aa01', computer: 'PC-B', day: 1 }),
    kit.issue(3, { hwid: 'aa01', computer: 'PC-A', day: 2 }),
    kit.issue(4, { hwid: 'aa01', computer: 'PC-B', day: 3 }),
    kit.issue(10, { hwid: 'c001', computer: 'PC-R', day: 0 }),
    kit.issue(11, { hwid: 'c002', computer: 'PC-R', day: 20 }),
    kit.renew(11, 40),
    kit.issue(20, { hwid: 'd001', computer: 'PC-OK', day: 5 }),
    kit.renew(20, 45),
    // The smallest ping-pong, on a server of its own, long over by the end (A/B/A, last reissue on day 20): still
    // reported, its cause stopped, while the CAL it leaked is valid.
    kit.issue(30, { hwid: 'ab01', computer: 'PC-X', day: 0, server: 'LS-ABA' }),
    kit.issue(31, { hwid: 'ab01', computer: 'PC-Y', day: 10, server: 'LS-ABA' }),
    kit.issue(32, { hwid: 'ab01', computer: 'PC-X', day: 20, server: 'LS-ABA' }),
  ];
}

beforeAll(async () => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  ns = await createNamespace(kafka, PARTITIONS);
});

afterAll(async () => {
  await ns.remove();
});

describe('processor on a real broker', () => {
  it('refuses to start without its topics, telling to run setup', async () => {
    const config = loadProcessorConfig(ns.env({ CALWATCH_TOPIC_PREFIX: `${uniqueName('absent')}.` }));
    const service = createProcessorService({ config, detection: parseCoreConfig({}), logger: createSilentLogger(), kafka });
    const error = await service.start().catch((e: unknown) => e);
    expect(isCalwatchError(error, 'PROCESSOR_TOPICS_MISSING')).toBe(true);
    expect((error as Error).message).toContain('calwatch setup');
  });

  it('turns events into the findings of the in-process pipeline and dead-letters what it cannot read', async () => {
    const events = handBuiltTimeline();
    const closing = closingEvents(PARTITIONS, Math.max(...events.map((e) => Date.parse(e.eventTime))));
    const expected = referenceFindings([...events, ...closing.map((c) => c.event)]);
    expect(new Set([...expected.values()].map((f) => f.kind))).toEqual(new Set(['cloned-image', 'rebuilt-device']));
    const pingPong = [...expected.values()].find((f) => f.hwids.includes('ab01'));
    expect(pingPong).toMatchObject({ kind: 'cloned-image', state: 'open', status: 'cause-stopped', leakedCals: 1 });

    await publish(kafka, ns.topics, byTime(events));
    await publishClosing(kafka, ns.topics, closing);
    const producer = await kafka.createProducer();
    await producer.send([{ topic: ns.topics.events, key: 'aa01', value: 'garbage{' }]);
    await producer.close();

    const findings = await collect(kafka, ns.topics.findings);
    const deadLetters = await collect(kafka, ns.topics.deadLetter);
    const service = createProcessorService({ config: loadProcessorConfig(ns.env()), detection: parseCoreConfig({}), logger: createSilentLogger(), kafka });
    await service.start();
    try {
      await waitFor(
        () => {
          const { latest } = readFindings(findings.records);
          return JSON.stringify(verdicts(latest)) === JSON.stringify(verdicts(expected)) ? true : undefined;
        },
        60_000,
        'the findings of the pipeline',
      ).catch((error: unknown) => {
        // Show the difference rather than only the timeout.
        expect(verdicts(readFindings(findings.records).latest)).toEqual(verdicts(expected));
        throw error;
      });
      const { conflicts, latest } = readFindings(findings.records);
      expect(conflicts).toEqual([]);
      expect(latest.get(pingPong!.id)).toMatchObject({ state: 'open', status: 'cause-stopped', leakedCals: 1 });
      const letters = await waitFor(() => (deadLetters.records.length > 0 ? deadLetters.records : undefined), 10_000, 'a dead letter');
      const letter = DeadLetter.parse(JSON.parse(letters[0]!.value!.toString()));
      expect(letter.code).toBe('PROCESSOR_RECORD_NOT_JSON');
      expect(Buffer.from(letter.originalBase64, 'base64').toString()).toBe('garbage{');
      expect(service.stats().deadLettered).toBe(1);
      expect(service.stats().restoredTasks).toBe(PARTITIONS);
    } finally {
      await service.stop();
      await findings.stop();
      await deadLetters.stop();
    }
    expect(service.state).toBe('stopped');
  });
});
