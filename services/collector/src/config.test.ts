import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { CollectorEnvSchema, loadCollectorConfig } from './config';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('collector config', () => {
  it('applies defaults and parses units', () => {
    const config = loadCollectorConfig({ COLLECTOR_TOKENS: 'abcdefghijklmnop, qrstuvwxyz012345', COLLECTOR_PORT: '9000' });
    expect(config.auth.tokens).toEqual(['abcdefghijklmnop', 'qrstuvwxyz012345']);
    expect(config.http.port).toBe(9000);
    expect(config.http.maxBodyBytes).toBe(64 * 1024 * 1024);
    expect(config.dropFolder.dir).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('refuses to run without authentication and lists every problem at once', () => {
    const error = (() => {
      try {
        loadCollectorConfig({ COLLECTOR_PORT: 'abc', COLLECTOR_MAX_BODY_BYTES: '-1' });
      } catch (e) {
        return e;
      }
    })();
    expect(isCalwatchError(error, 'SHARED_CONFIG_INVALID')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('COLLECTOR_PORT');
    expect(message).toContain('COLLECTOR_MAX_BODY_BYTES');
    expect(() => loadCollectorConfig({})).toThrow(/COLLECTOR_TOKENS or COLLECTOR_TOKENS_FILE/);
    expect(() => loadCollectorConfig({ COLLECTOR_TOKENS_FILE: '/etc/calwatch/tokens' })).not.toThrow();
  });

  it('refuses short tokens', () => {
    expect(() => loadCollectorConfig({ COLLECTOR_TOKENS: 'short' })).toThrow(/at least 16/);
  });

  it('is documented: every variable in the README, with a description for the collector ones', () => {
    for (const [name, schema] of Object.entries(CollectorEnvSchema.shape)) {
      expect(README, name).toContain(`\`${name}\``);
      if (name.startsWith('COLLECTOR_')) expect(schema.description, name).toBeTruthy();
    }
    const documented = [...README.matchAll(/^\| `(COLLECTOR_[A-Z_]+)` \| (?!\d)/gm)].map((m) => m[1]);
    expect(documented.every((name) => name! in CollectorEnvSchema.shape)).toBe(true);
  });
});
