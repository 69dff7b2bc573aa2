/**
 * A throw-away single Elasticsearch node for the outage test: the same distribution the
 * local stack downloaded, its own config, data and ports, security off, so stopping and
 * restarting it disturbs no other test (the shared node is never touched).
 *
 * The distribution comes from CALWATCH_TEST_ELASTICSEARCH_HOME (+ CALWATCH_TEST_JAVA_HOME,
 * CALWATCH_TEST_ELASTICSEARCH_USER when running as root) or else from the running local
 * stack's stack.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chown, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStackSettings, readStackInfo } from '@calwatch/stack';
import { freePort } from '../harness/free-port';
import { waitFor, waitForProcessUp } from '../harness/wait-for';

export interface ThrowawayNode {
  url: string;
  start(): Promise<void>;
  /** Stops the node (SIGTERM, as an operator would) and waits until it is gone. */
  stop(): Promise<void>;
  /** Stops it if running and removes its files. */
  destroy(): Promise<void>;
  logTail(): Promise<string>;
}

interface Distribution {
  homeDir: string;
  javaHome: string;
  runAs: { uid: number; gid: number } | undefined;
}

async function findDistribution(): Promise<Distribution> {
  const env = process.env;
  const user = (name: string): { uid: number; gid: number } => {
    const [, , uid, gid] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
    return { uid: Number(uid), gid: Number(gid) };
  };
  const asRoot = process.getuid?.() === 0;
  if (env.CALWATCH_TEST_ELASTICSEARCH_HOME) {
    return {
      homeDir: env.CALWATCH_TEST_ELASTICSEARCH_HOME,
      javaHome: env.CALWATCH_TEST_JAVA_HOME ?? env.JAVA_HOME ?? '',
      runAs: asRoot ? user(env.CALWATCH_TEST_ELASTICSEARCH_USER ?? 'calwatch') : undefined,
    };
  }
  const info = await readStackInfo({ settings: loadStackSettings(process.env) });
  if (info === undefined) {
    throw new Error(
      'the outage test needs an Elasticsearch distribution to start a throw-away node: run `calwatch stack up` once ' +
        'or set CALWATCH_TEST_ELASTICSEARCH_HOME (and CALWATCH_TEST_JAVA_HOME)',
    );
  }
  const es = info.elasticsearch;
  return { homeDir: es.homeDir, javaHome: es.javaHome, runAs: asRoot && es.runAsUser !== null ? user(es.runAsUser) : undefined };
}

async function chownTree(path: string, owner: { uid: number; gid: number }): Promise<void> {
  execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, path]);
  await chown(path, owner.uid, owner.gid);
}

export async function createThrowawayNode(options: { heapMb?: number } = {}): Promise<ThrowawayNode> {
  const dist = await findDistribution();
  const dir = await mkdtemp(join(tmpdir(), 'calwatch-outage-es-'));
  const configDir = join(dir, 'config');
  const dataDir = join(dir, 'data');
  const logsDir = join(dir, 'logs');
  const stdoutLog = join(dir, 'stdout.log');
  const pidFile = join(dir, 'es.pid');
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  await cp(join(dist.homeDir, 'config'), configDir, { recursive: true });
  await mkdir(join(configDir, 'jvm.options.d'), { recursive: true });
  await mkdir(dataDir, { recursive: true });
  await mkdir(logsDir, { recursive: true });
  await writeFile(
    join(configDir, 'elasticsearch.yml'),
    [
      'cluster.name: calwatch-outage-test',
      'node.name: outage-1',
      `path.data: ${dataDir}`,
      `path.logs: ${logsDir}`,
      'network.host: 127.0.0.1',
      `http.port: ${httpPort}`,
      `transport.port: ${transportPort}`,
      'discovery.type: single-node',
      'xpack.security.enabled: false',
      'cluster.routing.allocation.disk.threshold_enabled: false',
      '',
    ].join('\n'),
  );
  const heap = options.heapMb ?? 384;
  await writeFile(join(configDir, 'jvm.options.d', 'heap.options'), `-Xms${heap}m\n-Xmx${heap}m\n`);
  if (dist.runAs !== undefined) await chownTree(dir, dist.runAs);

  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function isUp(): Promise<boolean> {
    try {
      const response = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { status?: string };
      return response.ok && (body.status === 'green' || body.status === 'yellow');
    } catch {
      return false;
    }
  }

  const node: ThrowawayNode = {
    url,
    async start(): Promise<void> {
      const command = dist.runAs === undefined ? [] : ['setpriv', `--reuid=${dist.runAs.uid}`, `--regid=${dist.runAs.gid}`, '--clear-groups', '--'];
      const [cmd, ...args] = [...command, join(dist.homeDir, 'bin', 'elasticsearch'), '-p', pidFile];
      const out = createWriteStream(stdoutLog, { flags: 'a' });
      child = spawn(cmd!, args, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: dir, ES_PATH_CONF: configDir, ES_JAVA_HOME: dist.javaHome },
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      const current = child;
      exited = new Promise((resolve) => current.once('exit', () => resolve()));
      await waitForProcessUp(current, isUp, 180_000, 'throw-away Elasticsearch', () => node.logTail());
    },
    async stop(): Promise<void> {
      if (child === undefined || child.exitCode !== null) return;
      const serverPid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      // The server JVM owns the data; the launcher exits once it is gone.
      if (Number.isInteger(serverPid) && serverPid > 0) {
        try {
          process.kill(serverPid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      child.kill('SIGTERM');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(killer);
      // The server may outlive the launcher by a moment; wait until the port is free.
      await waitFor(async () => !(await isUp()), 60_000, 'the throw-away node to free its port', { intervalMs: 200 });
    },
    async destroy(): Promise<void> {
      await node.stop();
      await rm(dir, { recursive: true, force: true });
    },
    async logTail(): Promise<string> {
      const text = await readFile(stdoutLog, 'utf8').catch(() => '');
      return text.split('\n').slice(-40).join('\n');
    },
  };
  return node;
}
