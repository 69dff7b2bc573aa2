import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { DEFAULT_ELASTICSEARCH_VERSION, DEFAULT_KAFKA_VERSION, loadStackSettings } from './settings';

describe('loadStackSettings', () => {
  it('derives state and cache dirs from HOME and XDG variables', () => {
    const plain = loadStackSettings({ HOME: '/home/ana' });
    expect(plain.stateDir).toBe('/home/ana/.local/state/calwatch/stack');
    expect(plain.cacheDir).toBe('/home/ana/.cache/calwatch');
    const xdg = loadStackSettings({ HOME: '/home/ana', XDG_STATE_HOME: '/s', XDG_CACHE_HOME: '/c' });
    expect(xdg.stateDir).toBe('/s/calwatch/stack');
    expect(xdg.cacheDir).toBe('/c/calwatch');
    const explicit = loadStackSettings({ HOME: '/home/ana', CALWATCH_STACK_DIR: '/tmp/st', CALWATCH_CACHE_DIR: '/tmp/ca' });
    expect([explicit.stateDir, explicit.cacheDir]).toEqual(['/tmp/st', '/tmp/ca']);
  });

  it('defaults to the standard ports and the chosen versions', () => {
    const s = loadStackSettings({ HOME: '/h' });
    expect([s.kafka.port, s.kafka.controllerPort, s.elasticsearch.port, s.elasticsearch.transportPort]).toEqual([9092, 9093, 9200, 9300]);
    expect(s.kafka.version).toBe(DEFAULT_KAFKA_VERSION);
    expect(s.elasticsearch.version).toBe(DEFAULT_ELASTICSEARCH_VERSION);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('reads ports, heaps and the JDK from the environment', () => {
    const s = loadStackSettings({
      HOME: '/h',
      CALWATCH_STACK_KAFKA_PORT: '19092',
      CALWATCH_STACK_ELASTICSEARCH_HEAP_MB: '768',
      JAVA_HOME: '/opt/jdk',
      CALWATCH_JAVA_HOME: '/opt/other',
    });
    expect(s.kafka.port).toBe(19092);
    expect(s.elasticsearch.heapMb).toBe(768);
    expect(s.extraJavaHomes).toEqual(['/opt/jdk']);
    expect(s.javaHome).toBe('/opt/other');
  });

  it('lists every invalid variable at once', () => {
    let caught: unknown;
    try {
      loadStackSettings({ HOME: '/h', CALWATCH_STACK_KAFKA_PORT: '70000', CALWATCH_STACK_KAFKA_VERSION: '3.9.1' });
    } catch (error) {
      caught = error;
    }
    expect(isCalwatchError(caught, 'STACK_SETTINGS_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('CALWATCH_STACK_KAFKA_PORT');
    expect((caught as Error).message).toContain('CALWATCH_STACK_KAFKA_VERSION');
  });

  it('refuses two services on one port', () => {
    expect(() => loadStackSettings({ HOME: '/h', CALWATCH_STACK_ELASTICSEARCH_PORT: '9092' })).toThrow(/must differ/);
  });
});
