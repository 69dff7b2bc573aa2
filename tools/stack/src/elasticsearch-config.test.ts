import { describe, expect, it } from 'vitest';
import { buildElasticsearchJvmOptions, buildElasticsearchYml } from './elasticsearch-config';

describe('Elasticsearch configuration', () => {
  const yml = buildElasticsearchYml({ port: 19200, transportPort: 19300, dataDir: '/d', logsDir: '/l' });
  const settings = new Map(
    yml
      .split('\n')
      .filter((l) => l.includes(': ') && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)] as [string, string]),
  );

  it('is one loopback node with security on and plain HTTP', () => {
    expect(settings.get('discovery.type')).toBe('"single-node"');
    expect(settings.get('network.host')).toBe('"127.0.0.1"');
    expect(settings.get('http.port')).toBe('19200');
    expect(settings.get('transport.port')).toBe('19300');
    expect(settings.get('xpack.security.enabled')).toBe('true');
    expect(settings.get('xpack.security.http.ssl.enabled')).toBe('false');
  });

  it('relaxes the disk watermarks and quotes paths', () => {
    expect(settings.get('cluster.routing.allocation.disk.threshold_enabled')).toBe('false');
    expect(settings.get('path.data')).toBe('"/d"');
  });

  it('pins the heap', () => {
    expect(buildElasticsearchJvmOptions(512).split('\n')).toEqual(expect.arrayContaining(['-Xms512m', '-Xmx512m']));
  });
});

describe('Elasticsearch TLS mode', () => {
  it('turns HTTPS on with the PEM files given', () => {
    const yml = buildElasticsearchYml({ port: 1, transportPort: 2, dataDir: '/d', logsDir: '/l', tls: { keyFile: 'certs/n.key', certFile: 'certs/n.pem', caFile: 'certs/ca.pem' } });
    expect(yml).toContain('xpack.security.http.ssl.enabled: true');
    expect(yml).toContain('xpack.security.http.ssl.key: "certs/n.key"');
    expect(yml).toContain('xpack.security.http.ssl.certificate_authorities: "certs/ca.pem"');
  });
});
