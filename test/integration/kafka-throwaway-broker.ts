/**
 * A throw-away single Kafka broker (KRaft) for the outage tests: the jars and Java the
 * local stack already has, its own config, data and ports, so pausing it (SIGSTOP) or
 * stopping it disturbs no other test. The shared broker is never touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClusterId, buildKafkaJvmArgs, buildKafkaLog4jConfig, buildKafkaServerProperties, loadStackSettings, readStackInfo } from '@calwatch/stack';
import { createKafkaClient } from '@calwatch/kafka';
import { createSilentLogger } from '@calwatch/runtime';
import { freePort } from '../harness/free-port';
import { waitForProcessUp } from '../harness/wait-for';

export interface ThrowawayBroker {
  brokers: string[];
  start(): Promise<void>;
  /**
   * SIGSTOP: the process holds its sockets but answers nothing (a stalled broker). Resolves once
   * every thread of it is stopped: a signal reaches a busy JVM's threads only as each is next
   * scheduled, and one may answer a request in between.
   */
  pause(): Promise<void>;
  resume(): void;
  /** Stops it if running and removes its files. */
  destroy(): Promise<void>;
  logTail(): Promise<string>;
}

async function findKafka(): Promise<{ java: string; libsDir: string }> {
  const settings = loadStackSettings(process.env);
  const info = await readStackInfo({ settings });
  if (info === undefined) throw new Error('the outage test needs the Kafka jars of the local stack: run `calwatch stack up` once');
  return { java: join(info.kafka.javaHome, 'bin', 'java'), libsDir: join(settings.cacheDir, 'kafka', info.kafka.version, 'libs') };
}

function run(java: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kafka storage format exited ${code}: ${output}`))));
  });
}

/** Every thread of the process is stopped (state T in /proc/<pid>/task/<tid>/stat), within 10 s. */
async function waitUntilStopped(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const tasks = await readdir(`/proc/${pid}/task`);
    const states = await Promise.all(
      tasks.map(async (tid) => {
        const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
        // The state follows the command name, which is in parentheses and may hold spaces.
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      }),
    );
    if (states.every((state) => state === 'T' || state === 't' || state === '')) return;
    if (Date.now() > deadline) throw new Error(`broker process ${pid} not stopped 10 s after SIGSTOP (thread states ${[...new Set(states)].join(' ')})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function createThrowawayBroker(options: { heapMb?: number } = {}): Promise<ThrowawayBroker> {
  const { java, libsDir } = await findKafka();
  const dir = await mkdtemp(join(tmpdir(), 'calwatch-outage-kafka-'));
  const dataDir = join(dir, 'data');
  const logsDir = join(dir, 'logs');
  await mkdir(dataDir, { recursive: true });
  await mkdir(logsDir, { recursive: true });
  const [port, controllerPort] = [await freePort(), await freePort()];
  const serverProperties = join(dir, 'server.properties');
  const log4jConfig = join(dir, 'log4j2.properties');
  await writeFile(serverProperties, buildKafkaServerProperties({ port, controllerPort, dataDir }));
  await writeFile(log4jConfig, buildKafkaLog4jConfig(logsDir));
  const jvm = (heapMb: number) => buildKafkaJvmArgs({ heapMb, log4jConfig, logsDir, libsDir });
  await run(java, [...jvm(256), 'kafka.tools.StorageTool', 'format', '--cluster-id', buildClusterId(randomBytes(16)), '--config', serverProperties], dir);

  const brokers = [`127.0.0.1:${port}`];
  const stdoutLog = join(dir, 'stdout.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function isUp(): Promise<boolean> {
    const kafka = createKafkaClient({ connection: { brokers, clientId: 'outage-probe', ssl: false }, logger: createSilentLogger(), retries: 0, requestTimeoutMs: 2_000 });
    try {
      const admin = await kafka.createAdmin();
      try {
        return (await admin.describeCluster()).brokers === 1;
      } finally {
        await admin.close();
      }
    } catch {
      return false;
    }
  }

  const broker: ThrowawayBroker = {
    brokers,
    async start() {
      const out = createWriteStream(stdoutLog, { flags: 'a' });
      child = spawn(java, [...jvm(options.heapMb ?? 384), 'kafka.Kafka', serverProperties], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      const current = child;
      exited = new Promise((resolve) => current.once('exit', () => resolve()));
      await waitForProcessUp(current, isUp, 120_000, 'throw-away Kafka', () => broker.logTail());
    },
    async pause() {
      if (child?.pid === undefined) return;
      child.kill('SIGSTOP');
      await waitUntilStopped(child.pid);
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async destroy() {
      if (child !== undefined && child.exitCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const killer = setTimeout(() => child?.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    },
    async logTail() {
      const text = await readFile(stdoutLog, 'utf8').catch(() => '');
      return text.split('\n').slice(-40).join('\n');
    },
  };
  return broker;
}
