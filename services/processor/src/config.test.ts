import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { ProcessorEnvSchema, loadProcessorConfig, resolveDetectionConfig } from './config';

describe('processor config', () => {
  it('has a default for everything but the detection config', () => {
    const config = loadProcessorConfig({});
    expect(config.groupId).toBe('calwatch-processor');
    expect(config.punctuateIntervalMs).toBe(1_000);
    expect(config.idleAfterMs).toBe(2_000);
    expect(config.detectionConfig).toBeUndefined();
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
  });

  it('describes every variable (the README reference is built from it)', () => {
    for (const [name, schema] of Object.entries(ProcessorEnvSchema.shape)) {
      if (name.startsWith('KAFKA_') || name.startsWith('CALWATCH_')) continue;
      expect(schema.description, name).toBeTruthy();
    }
  });

  it('lists every problem at once', () => {
    try {
      loadProcessorConfig({ PROCESSOR_IDLE_AFTER_MS: 'soon', PROCESSOR_SESSION_TIMEOUT_MS: '10' });
      expect.unreachable();
    } catch (error) {
      expect(isCalwatchError(error, 'SHARED_CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toContain('PROCESSOR_IDLE_AFTER_MS');
      expect((error as Error).message).toContain('PROCESSOR_SESSION_TIMEOUT_MS');
    }
  });

  it('wants the heartbeat below the session timeout', () => {
    expect(() => loadProcessorConfig({ PROCESSOR_SESSION_TIMEOUT_MS: '6000', PROCESSOR_HEARTBEAT_INTERVAL_MS: '6000' })).toThrow(/HEARTBEAT/);
  });
});

describe('detection config', () => {
  it('takes inline JSON, a file, or nothing', () => {
    expect(resolveDetectionConfig(undefined, () => '').clone.minReissues).toBe(2);
    expect(resolveDetectionConfig('{"clone":{"minReissues":4}}', () => '').clone.minReissues).toBe(4);
    const files: Record<string, string> = { '/etc/calwatch/detection.json': '{"churn":{"minHwids":5}}' };
    expect(resolveDetectionConfig('/etc/calwatch/detection.json', (p) => files[p]!).churn.minHwids).toBe(5);
  });

  it('says which problem it met', () => {
    const codeOf = (value: string, readText: (path: string) => string) => {
      try {
        resolveDetectionConfig(value, readText);
        return 'none';
      } catch (error) {
        return isCalwatchError(error) ? error.code : 'not coded';
      }
    };
    const missing = () => {
      throw new Error('ENOENT');
    };
    expect(codeOf('/nope.json', missing)).toBe('PROCESSOR_DETECTION_CONFIG_UNREADABLE');
    expect(codeOf('/bad.json', () => '{not json')).toBe('PROCESSOR_DETECTION_CONFIG_UNREADABLE');
    expect(codeOf('{"clone":{"minReissues":0}}', missing)).toBe('PROCESSOR_CONFIG_INVALID');
  });
});
