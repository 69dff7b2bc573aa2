/**
 * `calwatch processor` as a child process whose produce fails for good: a state record
 * over the (deliberately small) record size limit. It must not keep running with its
 * consumer stopped: it logs where it failed, shuts down and exits non-zero.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaClient, createKafkaClient } from '@calwatch/kafka';
import { createSilentLogger } from '@calwatch/runtime';
import { simulateFleet } from '@calwatch/simulator';
import { getTestServices } from '../harness/services';
import { type Namespace, type ProcessorProcess, createNamespace, publish, startProcessorProcess } from './processor-helpers';

let kafka: KafkaClient;
let ns: Namespace | undefined;
let child: ProcessorProcess | undefined;

beforeAll(() => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
});

afterAll(async () => {
  await child?.kill('SIGKILL');
  await ns?.remove();
});

describe('processor whose produce fails for good', () => {
  it('exits non-zero after logging the refused record and shutting down, instead of running on with its consumer stopped', async () => {
    ns = await createNamespace(kafka, 1, 'proc-loud');
    await publish(kafka, ns.topics, [...simulateFleet({ devices: 120, days: 20, seed: 3 }).events()]);
    // Small enough that a by-server state or an output of this fleet exceeds it.
    child = startProcessorProcess(ns.env({ KAFKA_MAX_RECORD_BYTES: '1024', KAFKA_OUTAGE_BUDGET_MS: '5000' }));
    const code = await child.exited;
    const logs = child.logs();
    expect(code, child.output().slice(-3000)).toBe(1);
    const failed = logs.find((l) => l.msg === 'batch failed; it is delivered again');
    expect(failed, child.output().slice(-3000)).toMatchObject({ level: 'error', topic: expect.any(String), partition: 0 });
    expect(JSON.stringify(failed)).toContain('SHARED_KAFKA_RECORD_TOO_LARGE');
    expect(logs.some((l) => l.msg === 'consumer stopped on an error; the processor stops' && l.level === 'error')).toBe(true);
    expect(logs.some((l) => l.msg === 'processor stopped')).toBe(true);
  }, 120_000);
});
