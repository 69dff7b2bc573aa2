import { describe, expect, it } from 'vitest';
import { buildClusterId, buildKafkaJvmArgs, buildKafkaLog4jConfig, buildKafkaScramArgs, buildKafkaServerProperties } from './kafka-config';

function parseProperties(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
  );
}

describe('Kafka configuration', () => {
  const props = parseProperties(buildKafkaServerProperties({ port: 19092, controllerPort: 19093, dataDir: '/d' }));

  it('is a combined KRaft node on loopback with the given ports', () => {
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(props.get('log.dirs')).toBe('/d');
  });

  it('never creates topics by itself and keeps internal topics at replication 1', () => {
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('offsets.topic.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.replication.factor')).toBe('1');
    expect(props.get('transaction.state.log.min.isr')).toBe('1');
  });

  it('logs to a file under the logs dir only', () => {
    const log4j = buildKafkaLog4jConfig('/logs');
    expect(log4j).toContain('appender.file.fileName = /logs/server.log');
    expect(log4j).not.toMatch(/Console/i);
  });

  it('makes 22-character base64url cluster ids from 16 bytes', () => {
    const id = buildClusterId(new Uint8Array(16).fill(255));
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(id).toBe('f____________________w');
    expect(() => buildClusterId(new Uint8Array(8))).toThrow(RangeError);
  });

  it('never starts a cluster id with "-", which kafka-storage would read as an option', () => {
    // 0xf8 is 111110..: as the first byte it made "-" (index 62) the first character.
    expect(buildClusterId(new Uint8Array(16).fill(0xf8)).startsWith('-')).toBe(false);
    for (let first = 0; first < 256; first++) {
      const bytes = new Uint8Array(16).fill(first);
      expect(buildClusterId(bytes)[0]).toMatch(/[A-Za-f]/);
    }
  });

  it('caps the heap and points log4j at the generated config', () => {
    const args = buildKafkaJvmArgs({ heapMb: 512, log4jConfig: '/c/log4j2.properties', logsDir: '/l', libsDir: '/libs' });
    expect(args).toContain('-Xmx512m');
    expect(args).toContain('-Dlog4j2.configurationFile=/c/log4j2.properties');
    expect(args.slice(-2)).toEqual(['-cp', '/libs/*']);
  });
});

describe('Kafka TLS mode', () => {
  const tls = { keyAndCertFile: '/c/broker.pem', caFile: '/c/ca.pem', brokerUser: { username: 'broker', password: 'pw' } };
  const props = parseProperties(buildKafkaServerProperties({ port: 19092, controllerPort: 19093, dataDir: '/d', tls }));

  it('offers clients SASL_SSL with SCRAM-SHA-512 only, from PEM files', () => {
    expect(props.get('listeners')).toBe('SASL_SSL://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(props.get('advertised.listeners')).toBe('SASL_SSL://127.0.0.1:19092');
    expect(props.get('listener.security.protocol.map')).toBe('CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL');
    expect(props.get('sasl.enabled.mechanisms')).toBe('SCRAM-SHA-512');
    expect(props.get('ssl.keystore.type')).toBe('PEM');
    expect(props.get('ssl.keystore.location')).toBe('/c/broker.pem');
    expect(props.get('ssl.truststore.location')).toBe('/c/ca.pem');
    expect([...props.values()].some((value) => value.startsWith('PLAINTEXT://'))).toBe(false);
    expect(props.get('listener.name.sasl_ssl.ssl.client.auth')).toBe('none');
  });

  it('can require client certificates besides SCRAM', () => {
    const mutual = parseProperties(buildKafkaServerProperties({ port: 1, controllerPort: 2, dataDir: '/d', tls: { ...tls, requireClientCertificates: true } }));
    expect(mutual.get('listener.name.sasl_ssl.ssl.client.auth')).toBe('required');
  });

  it('creates the SCRAM users when the storage is formatted', () => {
    expect(buildKafkaScramArgs([{ username: 'calwatch', password: 'secret' }])).toEqual(['--add-scram', 'SCRAM-SHA-512=[name=calwatch,password=secret]']);
  });
});
