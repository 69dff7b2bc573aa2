import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildKafkaToolsPom, ensureMavenLibs, loadStackSettings, readStackInfo } from '@calwatch/stack';

export interface BrokerConsumePerf {
  records: number;
  mib: number;
  seconds: number;
  recordsPerSecond: number;
  mibPerSecond: number;
}

/**
 * The broker's own consumer benchmark (org.apache.kafka.tools.ConsumerPerformance) on a
 * topic, with the JDK and Kafka version of the local stack: the ceiling a calwatch consumer
 * is measured against. Kafka's tools are resolved from Maven Central once into the cache.
 */
export async function runConsumerPerformance(options: { brokers: string[]; topic: string; records: number }): Promise<BrokerConsumePerf> {
  const settings = loadStackSettings(process.env);
  const info = await readStackInfo({ settings });
  if (info === undefined) throw new Error('ConsumerPerformance needs the local stack (its JDK and Kafka version): run `calwatch stack up`');
  const version = info.kafka.version;
  const mavenDir = join(settings.cacheDir, 'kafka-tools', version);
  const libsDir = join(mavenDir, 'libs');
  await ensureMavenLibs({ mavenDir, libsDir, pom: buildKafkaToolsPom(version), mainJar: `kafka-tools-${version}.jar`, javaHome: info.kafka.javaHome, env: process.env });
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      join(info.kafka.javaHome, 'bin', 'java'),
      ['-Xmx512m', '-cp', `${libsDir}/*`, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', options.brokers.join(','), '--topic', options.topic, '--messages', String(options.records), '--timeout', '60000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`ConsumerPerformance exited ${code}: ${text.slice(-500)}`))));
  });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const row = output
    .split('\n')
    .map((line) => line.split(',').map((cell) => cell.trim()))
    .find((cells) => cells.length >= 6 && /^\d{4}-\d{2}-\d{2}/.test(cells[0]!));
  if (row === undefined) throw new Error(`ConsumerPerformance printed no result: ${output.slice(-500)}`);
  const mib = Number(row[2]);
  const records = Number(row[4]);
  const seconds = (Date.parse(row[1]!.replace(' ', 'T').replace(/:(\d{3})$/, '.$1')) - Date.parse(row[0]!.replace(' ', 'T').replace(/:(\d{3})$/, '.$1'))) / 1000;
  return { records, mib, seconds, recordsPerSecond: Number(row[5]), mibPerSecond: Number(row[3]) };
}
