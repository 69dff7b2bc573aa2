import { describe, expect, it } from 'vitest';
import { formatReachability, formatStatus } from './format';
import type { StackInfo } from './stack-info';

const info = {
  format: 1,
  stateDir: '/st',
  startedAt: 'now',
  kafka: { brokers: ['127.0.0.1:9092'], version: '4.4.0', port: 9092, controllerPort: 9093, pid: 1, javaHome: '/j', dataDir: '/d', serverLog: '/k.log', stdoutLog: '/ko.log' },
  elasticsearch: {
    url: 'http://127.0.0.1:9200',
    username: 'calwatch',
    password: 'S3cretValue-not-printed',
    passwordFile: '/st/elasticsearch-password',
    version: '8.19.21',
    port: 9200,
    transportPort: 9300,
    pid: 2,
    javaHome: '/j',
    runAsUser: 'calwatch',
    homeDir: '/h',
    dataDir: '/d',
    serverLog: '/es.log',
    stdoutLog: '/eso.log',
  },
} satisfies StackInfo;

describe('stack output', () => {
  it('says how to reach both services and where the password is, never the password', () => {
    const text = formatReachability(info, '/st/stack.env');
    expect(text).toContain('127.0.0.1:9092');
    expect(text).toContain('http://127.0.0.1:9200');
    expect(text).toContain('/st/elasticsearch-password');
    expect(text).not.toContain(info.elasticsearch.password);
  });

  it('names the CA and the SASL user of a TLS stack, never the SASL password', () => {
    const text = formatReachability(
      {
        ...info,
        elasticsearch: { ...info.elasticsearch, url: 'https://127.0.0.1:9200' },
        tls: {
          caFile: '/st/tls/ca.pem',
          caFingerprint: 'AB:CD',
          kafka: { saslMechanism: 'scram-sha-512', username: 'calwatch', password: 'SaslSecret-not-printed', clientCertFile: '/st/tls/c.pem', clientKeyFile: '/st/tls/c.key' },
          collector: { certFile: '/st/tls/collector.pem', keyFile: '/st/tls/collector.key' },
        },
      },
      '/st/stack.env',
    );
    expect(text).toContain('/st/tls/ca.pem');
    expect(text).toContain('https://127.0.0.1:9200');
    expect(text).toContain('scram-sha-512 user calwatch');
    expect(text).not.toContain('SaslSecret-not-printed');
    expect(text).not.toContain(info.elasticsearch.password);
  });

  it('lists each component with its state, ports and logs', () => {
    const text = formatStatus({
      stateDir: '/st',
      info,
      components: [
        { component: 'kafka', running: true, tls: true, pid: 1, ports: [9092, 9093], version: '4.4.0', health: { ok: true, detail: '1 broker(s)' }, logFiles: ['/k.log'] },
        { component: 'elasticsearch', running: false, tls: false, pid: undefined, ports: [9200, 9300], version: '8.19.21', health: undefined, logFiles: ['/es.log'] },
      ],
    });
    expect(text).toMatch(/Kafka 4\.4\.0: running with TLS, pid 1, ports 9092\/9093, healthy/);
    expect(text).toMatch(/Elasticsearch: not running \(ports 9200\/9300\)/);
    expect(text).toContain('/es.log');
    expect(text).not.toContain(info.elasticsearch.password);
  });
});
