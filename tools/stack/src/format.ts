import type { StackStatus } from './stack';
import type { StackInfo } from './stack-info';

/** What `stack up` prints: how to reach both services; the password stays in its file. */
export function formatReachability(info: StackInfo, stackEnvFile: string): string {
  const es = info.elasticsearch;
  const tls = info.tls;
  return [
    ...(tls === undefined
      ? []
      : [
          `TLS everywhere:              CA ${tls.caFile} (SHA-256 ${tls.caFingerprint})`,
          `                             Kafka SASL_SSL, ${tls.kafka.saslMechanism} user ${tls.kafka.username} + client certificate ${tls.kafka.clientCertFile}`,
          `                             collector certificate ${tls.collector.certFile}`,
        ]),
    `Kafka ${info.kafka.version}         brokers ${info.kafka.brokers.join(',')}   (controller 127.0.0.1:${info.kafka.controllerPort})`,
    `Elasticsearch ${es.version}  ${es.url}   user ${es.username}, password in ${es.passwordFile}`,
    `Environment for calwatch:    set -a; . ${stackEnvFile}; set +a`,
    `Logs:                        ${info.kafka.serverLog}`,
    `                             ${es.serverLog}`,
  ].join('\n');
}

export function formatStatus(status: StackStatus): string {
  const lines = [`state dir ${status.stateDir}`];
  for (const c of status.components) {
    const name = c.component === 'kafka' ? 'Kafka' : 'Elasticsearch';
    if (!c.running) {
      lines.push(`${name}: not running (ports ${c.ports.join('/')})`);
    } else {
      const health = c.health === undefined ? 'unknown' : `${c.health.ok ? 'healthy' : 'UNHEALTHY'}: ${c.health.detail}`;
      lines.push(`${name} ${c.version ?? ''}: running ${c.tls ? 'with TLS' : 'without TLS'}, pid ${c.pid}, ports ${c.ports.join('/')}, ${health}`);
    }
    lines.push(`  logs: ${c.logFiles.join('  ')}`);
  }
  if (status.info !== undefined) {
    lines.push(
      `brokers ${status.info.kafka.brokers.join(',')}; Elasticsearch ${status.info.elasticsearch.url} ` +
        `(user ${status.info.elasticsearch.username}, password in ${status.info.elasticsearch.passwordFile})`,
    );
  }
  return lines.join('\n');
}
