import { randomBytes } from 'node:crypto';
import type { Admin } from '@calwatch/kafka';
import { createSilentLogger, type KafkaConnection } from '@calwatch/runtime';
import { STACK_ERRORS } from './errors';
import { httpRequest } from './http-request';
import { sleep } from './processes';

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/** Where and how a probe reaches the brokers: plain, or TLS files and SASL as the services use them. */
export type KafkaProbeTarget = Pick<KafkaConnection, 'brokers'> & Partial<Pick<KafkaConnection, 'ssl' | 'sasl'>>;

/**
 * Ready means a metadata request answers and the controller accepts a topic creation and
 * deletion, which is the first thing calwatch's setup step does.
 */
export async function probeKafka(target: KafkaProbeTarget, options: { createTopic: boolean }): Promise<ProbeResult> {
  let admin: Admin | undefined;
  try {
    // Loaded here, not with the module: every calwatch command reads the stack's settings
    // through this package, and the Kafka clients are about half of an offline command's start.
    const { createKafkaClient } = await import('@calwatch/kafka');
    // Inside the try: unreadable TLS files are a failed probe, not a crash.
    const kafka = createKafkaClient({
      connection: {
        brokers: target.brokers,
        clientId: 'calwatch-stack-probe',
        ssl: target.ssl ?? false,
        ...(target.sasl === undefined ? {} : { sasl: target.sasl }),
      },
      logger: createSilentLogger(),
      connectionTimeoutMs: 2_000,
      requestTimeoutMs: 5_000,
      retries: 0,
    });
    admin = await kafka.createAdmin();
    const cluster = await admin.describeCluster();
    if (options.createTopic) {
      const topic = `__calwatch-stack-probe-${randomBytes(4).toString('hex')}`;
      await admin.ensureTopics([{ topic, numPartitions: 1, compacted: false }]);
      await admin.deleteTopics([topic]);
    }
    return { ok: true, detail: `${cluster.brokers} broker(s), controller ${String(cluster.controllerId)}` };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    await admin?.close().catch(() => undefined);
  }
}

export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

export type ElasticsearchProbeAuth = { username: string; password: string } | { apiKey: string } | undefined;

/**
 * Ready means cluster health is yellow or green for an authenticated request. Over https the
 * node must present a certificate of `tls.caFile` (the system CAs without one).
 */
export async function probeElasticsearch(url: string, auth: ElasticsearchProbeAuth, tls: { caFile?: string | undefined } = {}): Promise<ProbeResult> {
  const headers: Record<string, string> = {};
  if (auth !== undefined) {
    headers.authorization = 'apiKey' in auth ? `ApiKey ${auth.apiKey}` : basicAuthHeader(auth.username, auth.password);
  }
  try {
    const response = await httpRequest(`${url.replace(/\/+$/, '')}/_cluster/health?wait_for_status=yellow&timeout=2s`, {
      headers,
      timeoutMs: 5_000,
      ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }),
    });
    if (response.status === 401) return { ok: false, detail: 'credentials rejected (401)' };
    if (response.status < 200 || response.status > 299) return { ok: false, detail: `HTTP ${response.status}` };
    const body = ((): { status?: unknown } => {
      try {
        return JSON.parse(response.body) as { status?: unknown };
      } catch {
        return {};
      }
    })();
    const status = String(body.status);
    return { ok: status === 'green' || status === 'yellow', detail: `cluster health ${status}` };
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { ok: false, detail: `${error instanceof Error ? error.message : String(error)}${cause}` };
  }
}

/**
 * Polls `probe` until it passes. Fails fast when `isAlive` says the process died, and on
 * timeout; both errors name the log to read.
 */
export async function waitUntilReady(options: {
  what: string;
  probe: () => Promise<ProbeResult>;
  isAlive: () => Promise<boolean>;
  timeoutMs: number;
  logFiles: string[];
  intervalMs?: number;
  signal?: AbortSignal;
}): Promise<ProbeResult> {
  const deadline = Date.now() + options.timeoutMs;
  let last: ProbeResult = { ok: false, detail: 'not probed yet' };
  const logs = options.logFiles.join(' and ');
  for (;;) {
    if (options.signal?.aborted === true) {
      throw STACK_ERRORS.create('STACK_START_FAILED', `interrupted while waiting for ${options.what}`);
    }
    if (!(await options.isAlive())) {
      throw STACK_ERRORS.create('STACK_START_FAILED', `${options.what} exited during start-up; see ${logs}`, {
        context: { logFiles: options.logFiles },
      });
    }
    last = await options.probe();
    if (last.ok) return last;
    if (Date.now() > deadline) {
      throw STACK_ERRORS.create(
        'STACK_START_FAILED',
        `${options.what} not ready after ${Math.round(options.timeoutMs / 1000)} s (last check: ${last.detail}); see ${logs}`,
        { context: { logFiles: options.logFiles } },
      );
    }
    await sleep(options.intervalMs ?? 500, options.signal);
  }
}
