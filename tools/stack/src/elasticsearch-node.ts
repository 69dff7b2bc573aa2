import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, copyFile, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildElasticsearchJvmOptions, buildElasticsearchYml, ELASTICSEARCH_USERNAME } from './elasticsearch-config';
import { STACK_ERRORS } from './errors';
import type { Jdk } from './java';
import type { StackLayout } from './layout';
import { COMPLETE_MARKER, ensureElasticsearchZip, isComplete } from './maven';
import { runChecked, runCommand, spawnDetached, type PidRecord } from './processes';
import { buildRunAsPrefix, chownTree, mkdirTraversable, type ServiceUser } from './service-user';
import type { StackSettings } from './settings';
import type { StackCertificates } from './stack-tls';

/** Elasticsearch 8.19 runs on Java 17 and later; 25 is the newest this stack was run on. */
export const ELASTICSEARCH_JAVA_RANGE = { min: 17, max: 25 };

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Unpacks the zip once per version into a shared, read-only home. */
async function ensureUnpacked(zip: string, homeDir: string): Promise<void> {
  const versionDir = dirname(homeDir);
  if (await isComplete(versionDir)) return;
  await mkdirTraversable(versionDir);
  const staging = `${versionDir}/.unpack-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const unzip = await runCommand('unzip', ['-q', '-o', zip, '-d', staging], { timeoutMs: 300_000 });
  if (unzip.code !== 0) {
    throw STACK_ERRORS.create('STACK_COMMAND_FAILED', `unpacking ${zip} failed (exit ${unzip.code}): ${unzip.output.slice(-2000)}`);
  }
  await rm(homeDir, { recursive: true, force: true });
  // The zip holds one top-level elasticsearch-<version>/ directory.
  await rename(join(staging, basename(homeDir)), homeDir);
  await rm(staging, { recursive: true, force: true });
  // Readable and searchable by the service user whatever the umask was.
  await runChecked('making the Elasticsearch home readable', 'chmod', ['-R', 'a+rX', homeDir]);
  await writeFile(join(versionDir, COMPLETE_MARKER), 'ok\n');
}

function passwordDigest(password: string): string {
  return createHash('sha256').update(password).digest('hex');
}

/** The password survives restarts with the data; `down --purge` forgets both. */
async function ensurePassword(file: string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 16) return existing;
  } catch {
    // First start: generate below.
  }
  const password = randomBytes(18).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, password + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

function buildEsEnv(options: { settings: StackSettings; layout: StackLayout; jdk: Jdk }): NodeJS.ProcessEnv {
  return {
    PATH: options.settings.childPath,
    LANG: 'C.UTF-8',
    HOME: options.layout.elasticsearch.runDir,
    ES_PATH_CONF: options.layout.elasticsearch.configDir,
    ES_JAVA_HOME: options.jdk.home,
  };
}

/**
 * Home, per-stack config/data/logs, the file-realm user with the stack's password; with
 * `certificates`, HTTPS with the stack CA's node certificate. Returns the password clients
 * must use.
 */
export async function prepareElasticsearch(options: {
  settings: StackSettings;
  layout: StackLayout;
  jdk: Jdk;
  runAs: ServiceUser | undefined;
  certificates?: StackCertificates | undefined;
}): Promise<string> {
  const { settings, layout, jdk, runAs, certificates } = options;
  const es = layout.elasticsearch;
  const zip = await ensureElasticsearchZip({ downloadDir: es.downloadDir, version: settings.elasticsearch.version, javaHome: jdk.home, env: settings.toolEnv });
  await ensureUnpacked(zip, es.homeDir);

  await mkdirTraversable(es.runDir);
  if (!(await exists(join(es.configDir, 'elasticsearch.yml')))) {
    await cp(join(es.homeDir, 'config'), es.configDir, { recursive: true });
  }
  await mkdir(join(es.configDir, 'jvm.options.d'), { recursive: true });
  for (const dir of [es.dataDir, es.logsDir, layout.logsDir, layout.runDir]) await mkdir(dir, { recursive: true });
  // The node reads nothing outside its config directory: the PEM files are copied in.
  const certsDir = join(es.configDir, 'certs');
  await rm(certsDir, { recursive: true, force: true });
  if (certificates !== undefined) {
    await mkdir(certsDir, { recursive: true, mode: 0o700 });
    await copyFile(certificates.elasticsearch.keyFile, join(certsDir, 'node.key'));
    await copyFile(certificates.elasticsearch.certFile, join(certsDir, 'node.pem'));
    await copyFile(certificates.caFile, join(certsDir, 'ca.pem'));
  }
  await writeFile(
    join(es.configDir, 'elasticsearch.yml'),
    buildElasticsearchYml({
      port: settings.elasticsearch.port,
      transportPort: settings.elasticsearch.transportPort,
      dataDir: es.dataDir,
      logsDir: es.logsDir,
      ...(certificates === undefined ? {} : { tls: { keyFile: 'certs/node.key', certFile: 'certs/node.pem', caFile: 'certs/ca.pem' } }),
    }),
  );
  await writeFile(join(es.configDir, 'jvm.options.d', 'calwatch.options'), buildElasticsearchJvmOptions(settings.elasticsearch.heapMb));
  if (runAs !== undefined) await chownTree(es.runDir, runAs);

  const password = await ensurePassword(layout.passwordFile);
  const digestFile = join(es.configDir, '.calwatch-user');
  const wanted = `${ELASTICSEARCH_USERNAME} ${passwordDigest(password)}`;
  const current = await readFile(digestFile, 'utf8').catch(() => '');
  if (current.trim() !== wanted) {
    const prefix = runAs === undefined ? [] : buildRunAsPrefix(runAs);
    const tool = join(es.homeDir, 'bin', 'elasticsearch-users');
    const [cmd, ...args] = [...prefix, tool];
    const env = buildEsEnv({ settings, layout, jdk });
    // Re-created rather than updated, so a stale entry from an earlier password never lingers.
    await runCommand(cmd!, [...args, 'userdel', ELASTICSEARCH_USERNAME], { env, timeoutMs: 120_000 });
    await runChecked('creating the Elasticsearch file-realm user', cmd!, [...args, 'useradd', ELASTICSEARCH_USERNAME, '-r', 'superuser'], {
      env,
      // The tool reads the password (twice) from stdin when there is no console, keeping it off the command line.
      input: `${password}\n${password}\n`,
      timeoutMs: 120_000,
    });
    await writeFile(digestFile, wanted + '\n', { mode: 0o600 });
    if (runAs !== undefined) await chownTree(es.configDir, runAs);
  }
  return password;
}

export async function startElasticsearch(options: {
  settings: StackSettings;
  layout: StackLayout;
  jdk: Jdk;
  runAs: ServiceUser | undefined;
  tls: boolean;
}): Promise<PidRecord> {
  const { settings, layout, jdk, runAs } = options;
  const es = layout.elasticsearch;
  await rm(es.serverPidFile, { force: true });
  const prefix = runAs === undefined ? [] : buildRunAsPrefix(runAs);
  // -q: no console logging (the node logs to its own files); -p: the server JVM's pid.
  const [command, ...args] = [...prefix, join(es.homeDir, 'bin', 'elasticsearch'), '-q', '-p', es.serverPidFile];
  const { pid } = await spawnDetached({
    command: command!,
    args,
    env: buildEsEnv({ settings, layout, jdk }),
    cwd: es.runDir,
    logFile: es.stdoutLog,
  });
  return { name: 'elasticsearch', pid, pgid: pid, marker: `-Des.path.conf=${es.configDir}`, startedAt: new Date().toISOString(), tls: options.tls };
}
