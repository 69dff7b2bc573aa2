/**
 * One config pattern: every loader hands its consumers a deeply frozen camelCase object,
 * never the variable names it was parsed from.
 */
import { describe, expect, it } from 'vitest';
import { loadReplayConfig, loadStackSettings } from '@calwatch/cli';
import { loadCollectorConfig } from '@calwatch/collector';
import { loadEsSetupConfig, loadIndexerConfig, loadKibanaConfig } from '@calwatch/indexer';
import { loadNotifierConfig } from '@calwatch/notifier';
import { loadProcessorConfig } from '@calwatch/processor';
import { KafkaConfigSchema, ElasticsearchConfigSchema, loadConfig } from '@calwatch/runtime';

const ENV = { COLLECTOR_TOKENS: 'abcdefghijklmnopqrstuvwxyz', HOME: '/home/ana', PATH: '/usr/bin' };

const LOADERS: Array<[string, () => object]> = [
  ['collector', () => loadCollectorConfig(ENV)],
  ['processor', () => loadProcessorConfig(ENV)],
  ['indexer', () => loadIndexerConfig(ENV)],
  ['es-setup', () => loadEsSetupConfig(ENV)],
  ['kibana', () => loadKibanaConfig(ENV)],
  ['notifier', () => loadNotifierConfig(ENV)],
  ['replay', () => loadReplayConfig(ENV)],
  ['kafka', () => loadConfig(KafkaConfigSchema, ENV)],
  ['elasticsearch', () => loadConfig(ElasticsearchConfigSchema, ENV)],
  // toolEnv is the environment handed on to Maven as given, not config read by name.
  ['stack', () => ({ ...loadStackSettings(ENV), toolEnv: {} })],
];

/** Every key path of plain objects (arrays, Sets and their elements are values). */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Set) return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]);
}

function unfrozenPaths(value: unknown, path = '(root)'): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Set) return [];
  const here = Object.isFrozen(value) ? [] : [path];
  return [...here, ...Object.entries(value).flatMap(([key, inner]) => unfrozenPaths(inner, `${path}.${key}`))];
}

describe('config objects', () => {
  it.each(LOADERS)('%s: camelCase keys only', (_, load) => {
    const screaming = keyPaths(load()).filter((path) => !/^[a-z][A-Za-z0-9]*$/.test(path.split('.').at(-1)!));
    expect(screaming).toEqual([]);
  });

  it.each(LOADERS.filter(([name]) => name !== 'stack'))('%s: deeply frozen', (_, load) => {
    expect(unfrozenPaths(load())).toEqual([]);
  });

  it('stack settings are frozen, and the environment they were given is not', () => {
    const env = { HOME: '/home/ana', PATH: '/opt/bin:/usr/bin' };
    const settings = loadStackSettings(env);
    expect(unfrozenPaths(settings)).toEqual([]);
    expect(settings.childPath).toBe('/opt/bin:/usr/bin');
    expect(settings.toolEnv).toEqual(env);
    expect(Object.isFrozen(env)).toBe(false);
    expect(loadStackSettings({ HOME: '/h' }).childPath).toBe('/usr/bin:/bin');
  });
});
