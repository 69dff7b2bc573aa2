/**
 * A throw-away Kafka broker and Elasticsearch node in the local stack's TLS mode, for the
 * end-to-end TLS test: a CA and certificates made here, Kafka on SASL_SSL with SCRAM-SHA-512
 * users, Elasticsearch on HTTPS with file-realm users holding calwatch's least-privilege
 * roles. Own ports, own folders; the shared stack is never touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClusterId, buildElasticsearchYml, httpRequest, buildKafkaJvmArgs, buildKafkaLog4jConfig, buildKafkaScramArgs, buildKafkaServerProperties, loadStackSettings, readStackInfo } from '@calwatch/stack';
import { buildCalwatchRoles, buildRolesYml, READER_ROLE, WRITER_ROLE } from '@calwatch/indexer';
import { createKafkaClient } from '@calwatch/kafka';
import { createSilentLogger, type KafkaConnection } from '@calwatch/runtime';
import { freePort } from '../harness/free-port';
import { waitForProcessUp } from '../harness/wait-for';
import { createTestCa, type TestCa } from '../harness/tls-certificates';

export interface Credentials {
  username: string;
  password: string;
}

export interface TlsStack {
  ca: TestCa;
  /** Kafka wants SCRAM and a client certificate (`clientCertificate`). */
  kafka: { brokers: string[]; client: Credentials };
  /** Signed by the test CA: what the Kafka clients present, and what the collector's mutual TLS accepts. */
  clientCertificate: { certFile: string; keyFile: string };
  elasticsearch: { url: string; admin: Credentials; writer: Credentials; reader: Credentials };
  /** Server certificate for a collector (localhost, 127.0.0.1). */
  collectorCertificate: { certFile: string; keyFile: string };
  /** GET/POST to the node as `user`, trusting the test CA only. */
  esRequest(user: Credentials, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
  destroy(): Promise<void>;
  logTail(): Promise<string>;
}

const password = () => randomBytes(12).toString('hex');

function runToEnd(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args[0] ?? ''} exited ${code}: ${output}`))));
  });
}

function stopChild(child: ChildProcess | undefined, exited: Promise<void>): Promise<void> {
  if (child === undefined || child.exitCode !== null) return Promise.resolve();
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return exited.finally(() => clearTimeout(killer));
}

export async function startTlsStack(): Promise<TlsStack> {
  const settings = loadStackSettings(process.env);
  const info = await readStackInfo({ settings });
  if (info === undefined) throw new Error('the TLS test needs the Kafka jars and Elasticsearch distribution of the local stack: run `calwatch stack up` once');
  const dir = await mkdtemp(join(tmpdir(), 'calwatch-tls-stack-'));
  // Elasticsearch runs as its own user when we are root: it must be able to reach its folder.
  await chmod(dir, 0o755);
  const ca = await createTestCa(join(dir, 'ca'), 'calwatch TLS test CA');
  const [brokerCert, nodeCert, collectorCertificate, clientCertificate] = [
    await ca.issue('kafka'),
    await ca.issue('elasticsearch'),
    await ca.issue('collector'),
    await ca.issue('calwatch-client'),
  ];
  const children: Array<{ child: ChildProcess; exited: Promise<void>; pidFile?: string }> = [];
  const logs: string[] = [];

  // Kafka: SASL_SSL with SCRAM users made at format time.
  const kafkaDir = join(dir, 'kafka');
  await mkdir(join(kafkaDir, 'data'), { recursive: true });
  await mkdir(join(kafkaDir, 'logs'), { recursive: true });
  const keyAndCert = join(kafkaDir, 'broker.pem');
  await writeFile(keyAndCert, (await readFile(brokerCert.keyFile, 'utf8')) + (await readFile(brokerCert.certFile, 'utf8')));
  const brokerUser = { username: 'broker', password: password() };
  const client = { username: 'calwatch', password: password() };
  const [port, controllerPort] = [await freePort(), await freePort()];
  const serverProperties = join(kafkaDir, 'server.properties');
  await writeFile(
    serverProperties,
    buildKafkaServerProperties({ port, controllerPort, dataDir: join(kafkaDir, 'data'), tls: { keyAndCertFile: keyAndCert, caFile: ca.caFile, brokerUser, requireClientCertificates: true } }),
  );
  const log4jConfig = join(kafkaDir, 'log4j2.properties');
  await writeFile(log4jConfig, buildKafkaLog4jConfig(join(kafkaDir, 'logs')));
  const java = join(info.kafka.javaHome, 'bin', 'java');
  const jvm = (heapMb: number) => buildKafkaJvmArgs({ heapMb, log4jConfig, logsDir: join(kafkaDir, 'logs'), libsDir: join(settings.cacheDir, 'kafka', info.kafka.version, 'libs') });

  // Elasticsearch: HTTPS, file-realm users with calwatch's roles.
  const es = info.elasticsearch;
  const esDir = join(dir, 'elasticsearch');
  const configDir = join(esDir, 'config');
  await cp(join(es.homeDir, 'config'), configDir, { recursive: true });
  await mkdir(join(configDir, 'jvm.options.d'), { recursive: true });
  await mkdir(join(esDir, 'data'), { recursive: true });
  await mkdir(join(esDir, 'logs'), { recursive: true });
  await mkdir(join(configDir, 'certs'), { recursive: true });
  await copyFile(nodeCert.keyFile, join(configDir, 'certs', 'node.key'));
  await copyFile(nodeCert.certFile, join(configDir, 'certs', 'node.pem'));
  await copyFile(ca.caFile, join(configDir, 'certs', 'ca.pem'));
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  await writeFile(
    join(configDir, 'elasticsearch.yml'),
    buildElasticsearchYml({
      port: httpPort,
      transportPort,
      dataDir: join(esDir, 'data'),
      logsDir: join(esDir, 'logs'),
      tls: { keyFile: 'certs/node.key', certFile: 'certs/node.pem', caFile: 'certs/ca.pem' },
    }),
  );
  await writeFile(join(configDir, 'jvm.options.d', 'calwatch.options'), '-Xms384m\n-Xmx384m\n-Des.queryable_built_in_roles_enabled=false\n');
  await writeFile(join(configDir, 'roles.yml'), buildRolesYml(buildCalwatchRoles('calwatch-')));
  const admin = { username: 'calwatch_admin', password: password() };
  const writer = { username: 'calwatch_writer', password: password() };
  const reader = { username: 'calwatch_reader', password: password() };
  const esEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: esDir, ES_PATH_CONF: configDir, ES_JAVA_HOME: es.javaHome };

  const destroy = async (): Promise<void> => {
    for (const { child, exited, pidFile } of children.reverse()) {
      if (pidFile !== undefined) {
        const serverPid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(serverPid) && serverPid > 0) {
          try {
            process.kill(serverPid, 'SIGTERM');
          } catch {
            // Already gone.
          }
        }
      }
      await stopChild(child, exited);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const logTail = async (): Promise<string> => {
    const parts = await Promise.all(logs.map(async (file) => `--- ${file}\n${(await readFile(file, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n')}`));
    return parts.join('\n');
  };
  const spawnLogged = (name: string, command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }, pidFile?: string): ChildProcess => {
    const log = join(dir, `${name}.stdout.log`);
    logs.push(log);
    const out = createWriteStream(log, { flags: 'a' });
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    children.push({ child, exited: new Promise((resolve) => child.once('exit', () => resolve())), ...(pidFile === undefined ? {} : { pidFile }) });
    return child;
  };

  try {
    const users = join(es.homeDir, 'bin', 'elasticsearch-users');
    // The broker starts as soon as its storage is formatted, while the node's users are made.
    const brokerStarted = runToEnd(
      java,
      [...jvm(256), 'kafka.tools.StorageTool', 'format', '--cluster-id', buildClusterId(randomBytes(16)), '--config', serverProperties, ...buildKafkaScramArgs([brokerUser, client])],
      { cwd: kafkaDir },
    ).then(() => spawnLogged('kafka', java, [...jvm(384), 'kafka.Kafka', serverProperties], { cwd: kafkaDir }));
    // The tool rewrites the users files: one at a time.
    for (const [user, role] of [[admin, 'superuser'], [writer, WRITER_ROLE], [reader, READER_ROLE]] as const) {
      await runToEnd(users, ['useradd', user.username, '-p', user.password, '-r', role], { cwd: esDir, env: esEnv });
    }
    const runAs = process.getuid?.() === 0 && es.runAsUser !== null ? es.runAsUser : undefined;
    if (runAs !== undefined) execFileSync('chown', ['-R', `${runAs}:${runAs}`, esDir]);
    const prefix = runAs === undefined ? [] : (() => {
      const [, , uid, gid] = execFileSync('getent', ['passwd', runAs], { encoding: 'utf8' }).trim().split(':');
      return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
    })();
    const pidFile = join(esDir, 'es.pid');
    const [esCommand, ...esArgs] = [...prefix, join(es.homeDir, 'bin', 'elasticsearch'), '-p', pidFile];
    const node = spawnLogged('elasticsearch', esCommand!, esArgs, { cwd: esDir, env: esEnv }, pidFile);
    const broker = await brokerStarted;

    const url = `https://localhost:${httpPort}`;
    const authHeader = (user: Credentials) => `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    const esRequest: TlsStack['esRequest'] = (user, method, path, body) =>
      httpRequest(`${url}${path}`, {
        caFile: ca.caFile,
        method,
        headers: { authorization: authHeader(user), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const connection: KafkaConnection = {
      brokers: [`127.0.0.1:${port}`],
      clientId: 'tls-probe',
      ssl: { caFile: ca.caFile, certFile: clientCertificate.certFile, keyFile: clientCertificate.keyFile },
      sasl: { mechanism: 'scram-sha-512', ...client },
    };
    await Promise.all([
      waitForProcessUp(
        broker,
        async () => {
          const kafka = createKafkaClient({ connection, logger: createSilentLogger(), retries: 0, requestTimeoutMs: 2_000 });
          const adminClient = await kafka.createAdmin();
          try {
            return (await adminClient.describeCluster()).brokers === 1;
          } finally {
            await adminClient.close();
          }
        },
        120_000,
        'TLS Kafka',
        logTail,
        300,
      ),
      waitForProcessUp(
        node,
        async () => {
          const health = await esRequest(admin, 'GET', '/_cluster/health');
          return health.status === 200 && /"status":"(green|yellow)"/.test(health.body);
        },
        180_000,
        'TLS Elasticsearch',
        logTail,
        300,
      ),
    ]);
    return {
      ca,
      kafka: { brokers: connection.brokers, client },
      elasticsearch: { url, admin, writer, reader },
      collectorCertificate,
      clientCertificate,
      esRequest,
      destroy,
      logTail,
    };
  } catch (error) {
    const tail = await logTail();
    await destroy();
    throw new Error(`${(error as Error).message}\n${tail}`, { cause: error });
  }
}
