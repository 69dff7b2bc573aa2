import { describe, expect, it } from 'vitest';
import { buildDefaultPlacement, buildLayout, buildSystemPlacement, SYSTEM_CACHE_DIR, SYSTEM_STATE_DIR } from './layout';
import { loadStackSettings } from './settings';

describe('buildLayout', () => {
  const settings = loadStackSettings({ HOME: '/h', CALWATCH_STACK_DIR: '/st', CALWATCH_CACHE_DIR: '/ca' });

  it('keeps runtime state in the state dir and downloads in the cache dir', () => {
    const layout = buildLayout(settings);
    expect(layout.stackJson).toBe('/st/stack.json');
    expect(layout.kafka.pidFile.startsWith('/st/')).toBe(true);
    expect(layout.kafka.libsDir).toBe(`/ca/kafka/${settings.kafka.version}/libs`);
    expect(layout.elasticsearch.homeDir).toBe(`/ca/elasticsearch/${settings.elasticsearch.version}/elasticsearch-${settings.elasticsearch.version}`);
    expect(layout.elasticsearch.dataDir).toBe('/st/elasticsearch/data');
    // The download and the unpacked home are marked complete separately.
    expect(layout.elasticsearch.homeDir.startsWith(layout.elasticsearch.downloadDir)).toBe(false);
  });

  it('keeps the TLS mode’s data apart and everything else where the plain mode has it', () => {
    const plain = buildLayout(settings);
    const tls = buildLayout(settings, buildDefaultPlacement(settings), 'tls');
    expect(tls.kafka.dataDir).toBe('/st/kafka/data-tls');
    expect(tls.elasticsearch.dataDir).toBe('/st/elasticsearch/data-tls');
    expect({ ...tls, kafka: { ...tls.kafka, dataDir: '' }, elasticsearch: { ...tls.elasticsearch, dataDir: '' } }).toEqual({
      ...plain,
      kafka: { ...plain.kafka, dataDir: '' },
      elasticsearch: { ...plain.elasticsearch, dataDir: '' },
    });
  });

  it('gives each state dir its own system run dir for Elasticsearch', () => {
    const a = buildSystemPlacement({ stateDir: '/st' });
    const b = buildSystemPlacement({ stateDir: '/other' });
    expect(a.runDir.startsWith(`${SYSTEM_STATE_DIR}/stacks/`)).toBe(true);
    expect(a.homeBase).toBe(`${SYSTEM_CACHE_DIR}/elasticsearch`);
    expect(a.runDir).not.toBe(b.runDir);
    expect(buildSystemPlacement({ stateDir: '/st' })).toEqual(a);
    const layout = buildLayout(settings, a);
    expect(layout.elasticsearch.configDir).toBe(`${a.runDir}/config`);
    // Pid files and stack.json stay in the state dir whatever the placement.
    expect(layout.elasticsearch.pidFile).toBe(buildLayout(settings, buildDefaultPlacement(settings)).elasticsearch.pidFile);
  });
});
