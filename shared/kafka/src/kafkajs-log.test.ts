import { Writable } from 'node:stream';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@calwatch/runtime';
import { createKafkajsLogCreator } from './kafkajs-log';

const { logLevel } = kafkajs;

function captured(): { raw: string[]; lines: Array<Record<string, unknown>>; destination: Writable } {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { raw, lines, destination };
}

describe('kafkajs log bridge', () => {
  it("keeps kafkajs's levels, except a connection's error response, which is a warning", () => {
    const { raw, lines, destination } = captured();
    const logger = createLogger({ service: 'test', version: '0', level: 'info', destination }).child({ component: 'kafka' });
    const log = createKafkajsLogCreator(logger)(logLevel.INFO);
    const entry = (namespace: string, level: number, message: string, extra: Record<string, unknown> = {}) =>
      log({ namespace, level, label: '', log: { timestamp: '2026-01-01T00:00:00.000Z', message, logger: 'kafkajs', ...extra } });
    entry('Connection', logLevel.ERROR, 'Response Heartbeat(key: 12, version: 3)', { error: 'The group is rebalancing, so a rejoin is needed' });
    entry('Consumer', logLevel.ERROR, 'Crash: KafkaJSNonRetriableError');
    entry('Runner', logLevel.WARN, 'The group is rebalancing, re-joining');
    entry('Consumer', logLevel.INFO, 'Starting');
    expect(lines.map((l) => [l.namespace, l.level, l.msg])).toEqual([
      ['Connection', 'warn', 'Response Heartbeat(key: 12, version: 3)'],
      ['Consumer', 'error', 'Crash: KafkaJSNonRetriableError'],
      ['Runner', 'warn', 'The group is rebalancing, re-joining'],
      ['Consumer', 'info', 'Starting'],
    ]);
    expect(lines[0]).toMatchObject({ component: 'kafka', logger: 'kafkajs', error: 'The group is rebalancing, so a rejoin is needed' });
    // One `component` field per line, the caller's (a second child binding wrote it twice).
    for (const line of raw) expect(line.split('"component"').length - 1).toBe(1);
  });
});
