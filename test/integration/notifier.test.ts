import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, ensureCalwatchTopics, type KafkaClient, type Producer } from '@calwatch/kafka';
import { DeadLetter, buildTopicNames, type CanonicalEvent, type Finding, type TopicNames } from '@calwatch/model';
import { CALWATCH_VERSION, createLogger, createSilentLogger, retry } from '@calwatch/runtime';
import { createNotifierService, loadNotifierConfig, type NotifierService } from '@calwatch/notifier';
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import { createTimelineKit } from '@calwatch/processor/testing';
import { buildTestEnv, getTestServices, uniqueName } from '../harness/services';
import { waitFor } from '../harness/wait-for';

/**
 * The notifier against the real broker and real local HTTP receivers: one healthy
 * webhook, a Slack endpoint that answers 429 before it accepts, a slow Teams endpoint and
 * a PagerDuty endpoint that always fails.
 */

const SECRET_PATH = 'T0AAA/B0BBB/S3CRETPATHxyz';
const ROUTING_KEY = 'R0UT1NGKEYdeadbeefdeadbeef0123';
const WEBHOOK_SECRET = 'webhook-signing-secret-0123456789';

interface Received {
  route: string;
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  at: number;
  status: number;
}

/** One HTTP server standing in for all four services. */
class Receivers {
  readonly requests: Received[] = [];
  private server: Server | undefined;
  private slackCalls = 0;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        const route = (req.url ?? '').split('/')[1] ?? '';
        const record = (status: number): void => {
          this.requests.push({ route, body: JSON.parse(raw) as Record<string, unknown>, headers: req.headers, at: Date.now(), status });
        };
        if (route === 'ok') {
          record(200);
          res.writeHead(200).end('ok');
        } else if (route === 'slack') {
          // Every first attempt is rate limited.
          this.slackCalls++;
          if (this.slackCalls % 2 === 1) {
            record(429);
            res.writeHead(429, { 'retry-after': '1' }).end('rate_limited');
          } else {
            record(200);
            res.writeHead(200).end('ok');
          }
        } else if (route === 'teams') {
          setTimeout(() => {
            record(202);
            res.writeHead(202).end();
          }, 1_500);
        } else {
          record(500);
          res.writeHead(500).end('{"status":"error"}');
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  accepted(route: string): Received[] {
    return this.requests.filter((r) => r.route === route && r.status < 300);
  }

  /** trigger / update / resolve, read from each service's own payload. */
  actions(route: string): string[] {
    return this.accepted(route).map((r) => actionOf(r.body));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const LABELS: Record<string, string> = { ALERT: 'trigger', UPDATE: 'update', RESOLVED: 'resolve' };

function actionOf(body: Record<string, unknown>): string {
  if (typeof body['action'] === 'string') return body['action'];
  if (typeof body['event_action'] === 'string') return body['event_action'];
  const slackHeader = (body['blocks'] as Array<{ text?: { text?: string } }> | undefined)?.[0]?.text?.text;
  const teamsHeader = (body['attachments'] as Array<{ content: { body: Array<{ text?: string }> } }> | undefined)?.[0]?.content.body[0]?.text;
  const label = (slackHeader ?? teamsHeader ?? '').split(':')[0] ?? '';
  return LABELS[label] ?? `unknown(${label})`;
}


/**
 * The processor's leak-rate-spike finding, as its detection core publishes it: a server that
 * took two CALs a day for ten days, then 26 in the morning of the day before yesterday (high
 * once 5 were in, critical at 15 with these thresholds), resolved at the start of today after
 * a whole quiet day. Event times end now, so the pages are current.
 */
function spikeUpdates(): { open: Finding; critical: Finding; resolved: Finding } {
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const kit = createTimelineKit({ server: 'LS01', start: new Date(today - 12 * 86_400_000).toISOString() });
  const events: CanonicalEvent[] = [kit.keyPack({ day: 0, keyPackId: 3, total: 1000, available: 900 })];
  let id = 0;
  const issue = (day: number): void => {
    id++;
    events.push(kit.issue(id, { hwid: `e${(0x1000 + id).toString(16)}`, computer: `VDI-${String(id).padStart(3, '0')}`, day }));
  };
  for (let d = 0; d < 12; d++) {
    for (let i = 0; i < 2; i++) issue(d + 0.1 + 0.3 * i);
    if (d === 10) for (let i = 0; i < 24; i++) issue(d + 0.5 + 0.01 * i);
  }
  const updates: Finding[] = [];
  const pipeline = createPipeline(parseCoreConfig({ spike: { minCals: 5, factor: 2 } }), { onFinding: (f) => updates.push(f) });
  for (const event of events.sort((x, y) => x.eventTime.localeCompare(y.eventTime))) pipeline.apply(event);
  pipeline.advanceTo(new Date(today).toISOString());
  const spikes = updates.filter((u) => u.kind === 'leak-rate-spike');
  const [open, critical, resolved] = spikes;
  if (spikes.length !== 3 || open!.severity !== 'high' || critical!.severity !== 'critical' || resolved!.state !== 'resolved') {
    throw new Error(`unexpected spike updates: ${JSON.stringify(spikes.map((u) => [u.state, u.severity]))}`);
  }
  return { open: open!, critical: critical!, resolved: resolved! };
}

function findingRecord(topics: TopicNames, finding: Finding) {
  return { topic: topics.findings, key: finding.id, value: JSON.stringify(finding) };
}

/** A cloned-image finding as the processor publishes it. */
function clonedImage(revision: number, state: 'open' | 'resolved'): Finding {
  const now = new Date().toISOString();
  return {
    schemaVersion: 2,
    id: 'f-cloned-it',
    kind: 'cloned-image',
    state,
    severity: 'critical',
    licenseServer: 'LS01',
    productVersion: 'Windows Server 2019',
    hwidCount: 1,
    hwids: ['0201abcd'],
    computerCount: 3,
    computers: ['GOLD-01', 'GOLD-02', 'GOLD-03'],
    licenseCount: 3,
    licenseIds: [1, 2, 3],
    leakedCals: 2,
    reclaimableLicenseIds: [2, 3],
    revokePlan: [],
    firstSeen: now,
    lastSeen: now,
    updatedAt: now,
    revision,
    timeline: [],
    summary: 'Three clones share one HardwareID',
    remediation: 'Regenerate the HardwareID on each clone.',
  };
}

/** Reads a topic from the beginning until `done` says enough. */
async function readTopic(kafka: KafkaClient, topic: string, done: (values: unknown[]) => boolean, timeoutMs: number): Promise<unknown[]> {
  const values: unknown[] = [];
  const consumer = kafka.createConsumer({ groupId: uniqueName('notifier-it-reader'), maxWaitTimeMs: 100 });
  await consumer.start({
    topics: [topic],
    fromBeginning: true,
    eachBatch: async (records) => {
      for (const r of records) if (r.value !== null) values.push(JSON.parse(r.value.toString('utf8')));
    },
  });
  try {
    await waitFor(() => done(values), timeoutMs, `records on ${topic}`);
  } finally {
    await consumer.stop();
  }
  return values;
}

describe('notifier on the real broker with real HTTP receivers', () => {
  const receivers = new Receivers();
  let kafka: KafkaClient;
  const running: NotifierService[] = [];
  const logLines: string[] = [];
  const created: string[] = [];

  beforeAll(async () => {
    kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
    await receivers.start();
  });

  afterEach(async () => {
    for (const service of running.splice(0)) await service.stop();
  });

  afterAll(async () => {
    await receivers.stop();
    const admin = await kafka.createAdmin();
    await admin.deleteTopics(created).catch(() => undefined);
    await admin.close();
  });

  /** A fresh namespace (topics, group) and the notifier's env for it. */
  async function namespace(targets: object[]): Promise<{ env: Record<string, string>; topics: TopicNames }> {
    const prefix = uniqueName('notifier-it');
    const env = buildTestEnv(
      {
        NOTIFIER_GROUP_ID: `${prefix}-group`,
        NOTIFIER_FROM_BEGINNING: 'true',
        NOTIFIER_TARGETS: JSON.stringify(targets),
        NOTIFIER_RULES: 'leak-rate-spike,high-severity-finding',
        NOTIFIER_UPDATE_INTERVAL_MS: '3000',
        NOTIFIER_QUIET_PERIOD_MS: '60000',
        NOTIFIER_REOPEN_COOLDOWN_MS: '0',
        NOTIFIER_IDLE_ADVANCE_AFTER_MS: '1000',
        NOTIFIER_TICK_INTERVAL_MS: '200',
        NOTIFIER_HTTP_TIMEOUT_MS: '5000',
        NOTIFIER_RETRY_MIN_DELAY_MS: '100',
        NOTIFIER_RETRY_MAX_DELAY_MS: '400',
        NOTIFIER_GIVE_UP_AFTER_MS: '2500',
        NOTIFIER_DRAIN_TIMEOUT_MS: '8000',
        NOTIFIER_FINDING_URL_TEMPLATE: 'https://kibana.example/app/discover#/?finding={findingId}',
      },
      prefix,
    );
    const topics = buildTopicNames(`${prefix}.`);
    created.push(...Object.values(topics));
    // A broker that has just created other tests' topics may answer "not the leader" for a moment.
    await retry(() => ensureCalwatchTopics(kafka, topics, { partitions: 2, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 }), {
      retries: 5,
      minDelayMs: 500,
      maxDelayMs: 2_000,
    });
    return { env, topics };
  }

  function startNotifier(env: Record<string, string>): Promise<NotifierService> {
    const config = loadNotifierConfig(env);
    const logger = createLogger({ service: 'notifier', version: CALWATCH_VERSION, level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
    const service = createNotifierService({ config, logger, kafka: createKafkaClient({ connection: config.kafka, logger }) });
    running.push(service);
    return service.start().then(() => service);
  }

  it('pages the processor\'s spike finding once, escalates at once, resolves with it; a failing target blocks no one', async () => {
    const { env, topics } = await namespace([
      { name: 'webhook', type: 'webhook', url: `${receivers.base}/ok/${SECRET_PATH}`, secret: WEBHOOK_SECRET },
      { name: 'slack', type: 'slack', url: `${receivers.base}/slack/${SECRET_PATH}` },
      { name: 'teams', type: 'teams', url: `${receivers.base}/teams/${SECRET_PATH}` },
      { name: 'pagerduty', type: 'pagerduty', url: `${receivers.base}/pd/enqueue`, routingKey: ROUTING_KEY },
    ]);
    const notifier = await startNotifier(env);
    const producer = await kafka.createProducer();
    try {
      // Garbage on the findings topic is dead-lettered, not fatal; a critical finding pages.
      await producer.send([
        { topic: topics.findings, key: 'broken', value: '{"not":"a finding"}' },
        { topic: topics.findings, key: 'f-cloned-it', value: JSON.stringify(clonedImage(1, 'open')) },
      ]);

      const spike = spikeUpdates();
      const spikeOf = (route: string) => receivers.accepted(route).filter((r) => r.body['rule'] === 'leak-rate-spike');
      const spikeSent = Date.now();
      await producer.send([findingRecord(topics, spike.open)]);
      await waitFor(() => spikeOf('ok').length === 1 || undefined, 10_000, 'the spike trigger at the webhook');
      // A notifier takes the newest revision per batch: each update goes once the last one was paged.
      await producer.send([findingRecord(topics, spike.critical)]);
      await waitFor(() => spikeOf('ok').length === 2 || undefined, 10_000, 'the escalation at the webhook');
      await producer.send([findingRecord(topics, spike.resolved), { topic: topics.findings, key: 'f-cloned-it', value: JSON.stringify(clonedImage(2, 'resolved')) }]);

      // The healthy webhook had its page while PagerDuty was still failing (give-up after 2.5 s).
      const trigger = spikeOf('ok')[0];
      expect(trigger?.body).toMatchObject({
        action: 'trigger',
        rule: 'leak-rate-spike',
        licenseServer: 'LS01',
        product: 'Windows Server 2019',
        severity: 'high',
        dedupKey: `calwatch/leak-rate-spike/${spike.open.id}`,
        findingId: spike.open.id,
        link: `https://kibana.example/app/discover#/?finding=${encodeURIComponent(spike.open.id)}`,
      });
      expect(String(trigger?.body['summary'])).toContain('against a median of 2 per day');
      // Attempts at PagerDuty for that same trigger go on after the webhook had it.
      const pdTriggerAttempts = () =>
        receivers.requests.filter(
          (r) => r.route === 'pd' && String(r.body['dedup_key']).includes('leak-rate-spike') && (r.body['payload'] as { custom_details: { update: number } }).custom_details.update === 1,
        );
      const pdAttempts = await waitFor(
        () => {
          const attempts = pdTriggerAttempts();
          return attempts.length > 1 && attempts.at(-1)!.at > trigger!.at && attempts;
        },
        10_000,
        'PagerDuty retries of the trigger after the webhook had it',
      );
      expect(pdAttempts.length).toBeGreaterThan(1);
      expect(trigger!.at).toBeLessThan(pdAttempts.at(-1)!.at);
      expect(trigger!.at - spikeSent).toBeLessThan(10_000);

      await waitFor(() => spikeOf('ok').some((r) => r.body['action'] === 'resolve'), 20_000, 'the resolve at the webhook');

      // The finding: paged once with its link and offenders, resolved with its resolved revision.
      const finding = receivers.accepted('ok').filter((r) => r.body['rule'] === 'high-severity-finding');
      expect(finding.map((r) => r.body['action'])).toEqual(['trigger', 'resolve']);
      expect(finding[0]!.body).toMatchObject({
        severity: 'critical',
        cals: 2,
        dedupKey: 'calwatch/high-severity-finding/f-cloned-it',
        link: 'https://kibana.example/app/discover#/?finding=f-cloned-it',
        topOffenders: [{ name: 'GOLD-01', cals: null }, { name: 'GOLD-02', cals: null }, { name: 'GOLD-03', cals: null }],
      });

      // The spike: one trigger, the escalation to critical at once (inside the 3 s update
      // interval: a severity increase is not throttled), one resolve, all under one key.
      expect(spikeOf('ok').map((r) => [r.body['action'], r.body['severity']])).toEqual([
        ['trigger', 'high'],
        ['update', 'critical'],
        ['resolve', 'critical'],
      ]);
      expect(new Set(spikeOf('ok').map((r) => r.body['dedupKey'])).size).toBe(1);
      expect(spikeOf('ok').at(-1)!.body['summary']).toBe(spike.resolved.summary);
      expect(receivers.accepted('ok')[0]!.headers['x-calwatch-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

      // Every target got every message, in the same order; per alert: trigger, updates, resolve.
      const all = receivers.actions('ok');
      // Slack: every message came through after a 429, waiting out Retry-After.
      await waitFor(() => receivers.actions('slack').length === all.length || undefined, 20_000, 'every message at slack');
      const slack = receivers.requests.filter((r) => r.route === 'slack');
      expect(slack[0]!.status).toBe(429);
      expect(slack[1]!.at - slack[0]!.at).toBeGreaterThanOrEqual(900);
      expect((slack[1]!.body['blocks'] as unknown[]).length).toBeGreaterThan(2);
      // Teams: slow (it did not hold up the webhook either) but complete, in order.
      expect(receivers.accepted('teams')[0]!.at).toBeGreaterThan(trigger!.at);
      await waitFor(() => receivers.actions('teams').length === all.length || undefined, 20_000, 'every message at teams');
      expect(receivers.actions('teams')).toEqual(all);
      expect(receivers.actions('slack')).toEqual(all);

      // PagerDuty never answered: each notification was given up, dead-lettered and counted.
      const deadLetters = (await readTopic(kafka, topics.deadLetter, (values) => values.length >= 1 + all.length, 40_000)).map((v) => DeadLetter.parse(v));
      expect(deadLetters.filter((d) => d.code === 'NOTIFIER_INVALID_FINDING')).toHaveLength(1);
      const givenUp = deadLetters.filter((d) => d.code === 'NOTIFIER_DELIVERY_GAVE_UP');
      expect(givenUp.length).toBe(all.length);
      expect(givenUp.every((d) => d.location.ref.startsWith('notifier/target/pagerduty/'))).toBe(true);
      // Dead letters spread over partitions: the spike's trigger is its alert's first notification.
      const first = givenUp.find((d) => d.location.record === 1 && d.location.ref.includes('leak-rate-spike'))!;
      const original = JSON.parse(Buffer.from(first.originalBase64, 'base64').toString('utf8')) as Record<string, unknown>;
      expect(original).toMatchObject({ action: 'trigger', rule: 'leak-rate-spike' });
      expect(JSON.stringify(deadLetters)).not.toContain(ROUTING_KEY);
      const metrics = await notifier.metrics.registry.metrics();
      expect(metrics).toMatch(/calwatch_notifier_delivery_failures_total\{target="pagerduty",code="NOTIFIER_TARGET_UNAVAILABLE"\} [1-9]/);

      // Not a secret in any log line.
      const logs = logLines.join('');
      expect(logs).toContain('notification given up and dead-lettered');
      for (const secret of [SECRET_PATH, ROUTING_KEY, WEBHOOK_SECRET]) expect(logs).not.toContain(secret);
    } finally {
      await producer.close();
    }
  });

  it('a restart in the middle of a spike neither pages again nor forgets to resolve', async () => {
    const spike = spikeUpdates();
    const { env, topics } = await namespace([{ name: 'webhook', type: 'webhook', url: `${receivers.base}/ok/${SECRET_PATH}` }]);
    const before = receivers.accepted('ok').length;
    const mine = () => receivers.accepted('ok').slice(before);
    const producer = await kafka.createProducer();
    try {
      const first = await startNotifier(env);
      await producer.send([findingRecord(topics, spike.open)]);
      await waitFor(() => mine().length > 0 || undefined, 10_000, 'the trigger');
      expect(mine()[0]!.body['action']).toBe('trigger');

      // Stop mid-spike; the spike goes on (the same finding, an older revision redelivered,
      // then the escalation) while the notifier is down, and resolves after it is back.
      await first.stop();
      await producer.send([findingRecord(topics, spike.open)]);
      await producer.send([findingRecord(topics, spike.critical)]);
      const restartLines = logLines.length;
      await startNotifier(env);
      await waitFor(() => mine().length > 1 || undefined, 10_000, 'the escalation after the restart');
      await producer.send([findingRecord(topics, spike.resolved)]);

      await waitFor(() => mine().some((r) => r.body['action'] === 'resolve') || undefined, 20_000, 'the resolve after the restart');
      const restored = logLines.slice(restartLines).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'alert state restored');
      expect(restored).toMatchObject({ openAlerts: 1 });
      const actions = mine().map((r) => r.body['action']);
      expect(actions.filter((a) => a === 'trigger')).toHaveLength(1);
      expect(actions.filter((a) => a === 'resolve')).toHaveLength(1);
      expect(actions.at(-1)).toBe('resolve');
      const deliveries = mine().map((r) => r.headers['x-calwatch-delivery']);
      expect(new Set(deliveries).size).toBe(deliveries.length);
      // All of one alert: the same dedup key throughout.
      expect(new Set(mine().map((r) => r.body['dedupKey'])).size).toBe(1);
    } finally {
      await producer.close();
    }
  });
});
