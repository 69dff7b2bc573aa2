import { describe, expect, it } from 'vitest';
import { COLLECTOR_ERRORS } from './errors';
import { createKafkaAvailability, withAvailability } from './kafka-availability';
import { createMemoryPublisher } from './testing/memory-publisher';

describe('kafka availability', () => {
  it('after a failure lets one request through per retry interval until one succeeds', () => {
    let now = 1000;
    const availability = createKafkaAvailability({ retryIntervalMs: 100, now: () => now });
    expect(availability.tryEnter()).toBe(true);
    availability.markFailed();
    expect(availability.isHealthy()).toBe(false);
    expect(availability.tryEnter()).toBe(false);
    now += 100;
    expect(availability.tryEnter()).toBe(true);
    expect(availability.tryEnter()).toBe(false);
    availability.markOk();
    expect(availability.tryEnter()).toBe(true);
    expect(availability.isHealthy()).toBe(true);
  });

  it('learns from publish outcomes: retriable errors mark Kafka unavailable, others do not', async () => {
    const availability = createKafkaAvailability({ retryIntervalMs: 1000 });
    const memory = createMemoryPublisher();
    const publisher = withAvailability(memory, availability);
    memory.failNext(COLLECTOR_ERRORS.create('COLLECTOR_PUBLISH_FAILED', 'too large'));
    await expect(publisher.publish([], [])).rejects.toThrow('too large');
    expect(availability.isHealthy()).toBe(true);
    memory.failNext(COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', 'down'));
    await expect(publisher.publish([], [])).rejects.toThrow('down');
    expect(availability.isHealthy()).toBe(false);
    await publisher.publish([], []);
    expect(availability.isHealthy()).toBe(true);
  });

  it('reports an outage that outlasts the budget once, and not one that ended in time', () => {
    let now = 0;
    const exceeded: number[] = [];
    const availability = createKafkaAvailability({ retryIntervalMs: 100, outageBudgetMs: 1_000, onOutageExceeded: (ms) => exceeded.push(ms), now: () => now });
    availability.markFailed();
    now = 900;
    availability.markFailed();
    availability.markOk();
    now = 1_500;
    availability.markFailed();
    now = 2_400;
    availability.markFailed();
    expect(exceeded).toEqual([]);
    now = 2_500;
    availability.markFailed();
    now = 3_000;
    availability.markFailed();
    expect(exceeded).toEqual([1_000]);
  });
});
