import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { boolVar, csvList, intVar, loadConfig } from './config';
import { isCalwatchError } from '@calwatch/model';
import { kafkaEnvShape } from './connection-config';
import { CALWATCH_VERSION } from './version';
import rootPackage from '../../../package.json' with { type: 'json' };

describe('loadConfig', () => {
  const schema = z.object({ ...kafkaEnvShape, PORT: intVar(1).default(8080), DEBUG: boolVar.default(false), TOKENS: csvList.default([]) });

  it('applies defaults and freezes the result', () => {
    const config = loadConfig(schema, {});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.PORT).toBe(8080);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.KAFKA_BROKERS)).toBe(true);
  });

  it('parses lists, integers and booleans', () => {
    const config = loadConfig(schema, { KAFKA_BROKERS: 'a:1, b:2', PORT: '9000', DEBUG: 'yes', TOKENS: 'x,,y' });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(config.PORT).toBe(9000);
    expect(config.DEBUG).toBe(true);
    expect(config.TOKENS).toEqual(['x', 'y']);
  });

  it('lists every problem at once', () => {
    const error = (() => {
      try {
        loadConfig(schema, { PORT: 'abc', DEBUG: 'maybe' });
      } catch (e) {
        return e;
      }
    })();
    expect(isCalwatchError(error, 'SHARED_CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('PORT');
    expect((error as Error).message).toContain('DEBUG');
  });
});

describe('version', () => {
  it('matches package.json', () => {
    expect(CALWATCH_VERSION).toBe(rootPackage.version);
  });
});
