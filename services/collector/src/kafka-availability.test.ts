import { describe, expect, it } from 'vitest';
import { COLLECTOR_ERRORS } from './errors';
import { createKafkaAvailability, withAvailability } from './kafka-availability';
import { createMemoryPublisher } from './memory-publisher';

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
});
