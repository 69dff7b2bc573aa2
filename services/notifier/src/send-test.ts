import { isCalwatchError, type CalwatchError } from '@calwatch/model';
import { retry } from '@calwatch/runtime';
import type { NotifierConfig, TargetConfig } from './config';
import { buildDedupKey } from './dedup-key';
import { NOTIFIER_ERRORS } from './errors';
import { createFetchPost, type HttpPost } from './http-client';
import { buildLink } from './links';
import type { Notification } from './notification';
import { createTargetSender } from './target-sender';

export interface TestSendOptions {
  config: NotifierConfig;
  targetName: string;
  post?: HttpPost;
  now?: () => number;
  signal?: AbortSignal;
  /** Defaults to the configured give-up time, at most a minute: someone is waiting. */
  giveUpAfterMs?: number;
}

export interface TestSendResult {
  target: string;
  type: TargetConfig['type'];
  /** trigger, then resolve for PagerDuty so the test leaves no open incident. */
  steps: Array<{ action: Notification['action']; delivered: boolean; attempts: number; error?: CalwatchError }>;
}

/** The message `calwatch notify test` sends: clearly a test, routed regardless of severity filters. */
export function buildTestNotification(config: NotifierConfig, target: TargetConfig, nowMs: number, action: 'test' | 'resolve', seq: number): Notification {
  const dedupKey = buildDedupKey('test', target.name, String(nowMs));
  const at = new Date(nowMs).toISOString();
  const licenseServer = 'CALWATCH-TEST';
  return {
    schemaVersion: 1,
    action,
    dedupKey,
    rule: 'test',
    seq,
    at,
    since: at,
    title: `Test message from calwatch to ${target.name}`,
    severity: 'info',
    summary: action === 'resolve' ? 'Test resolved: nothing to do.' : 'If you can read this, calwatch can page this target. Nothing to do.',
    licenseServer,
    product: null,
    cals: 0,
    metrics: {},
    topOffenders: [],
    remediation: 'None: this is a test.',
    findingId: null,
    link: buildLink(config.links, { findingId: null, licenseServer, product: null, dedupKey, rule: 'test' }),
  };
}

export async function sendTestNotification(options: TestSendOptions): Promise<TestSendResult> {
  const { config } = options;
  const target = config.targets.find((t) => t.name === options.targetName);
  if (target === undefined) {
    const known = config.targets.map((t) => t.name);
    throw NOTIFIER_ERRORS.create('NOTIFIER_UNKNOWN_TARGET', `no target named '${options.targetName}'; configured: ${known.length === 0 ? '(none)' : known.join(', ')}`, {
      context: { target: options.targetName, known },
    });
  }
  const now = options.now ?? Date.now;
  const sender = createTargetSender(target, { post: options.post ?? createFetchPost(), defaultTimeoutMs: config.delivery.timeoutMs, now });
  const signal = options.signal ?? new AbortController().signal;
  const giveUpAfterMs = options.giveUpAfterMs ?? Math.min(config.delivery.giveUpAfterMs, 60_000);
  const startedAt = now();
  const plan: Array<['test' | 'resolve', number]> = target.type === 'pagerduty' ? [['test', 1], ['resolve', 2]] : [['test', 1]];
  const result: TestSendResult = { target: target.name, type: target.type, steps: [] };
  for (const [action, seq] of plan) {
    let attempts = 0;
    try {
      await retry(
        async () => {
          attempts++;
          await sender.send(buildTestNotification(config, target, startedAt, action, seq), signal);
        },
        {
          retries: Number.POSITIVE_INFINITY,
          minDelayMs: config.delivery.retryMinDelayMs,
          maxDelayMs: config.delivery.retryMaxDelayMs,
          maxElapsedMs: giveUpAfterMs,
          signal,
          retryAfterMs: (error) => (isCalwatchError(error) ? (error.context['retryAfterMs'] as number | undefined) : undefined),
        },
      );
      result.steps.push({ action, delivered: true, attempts });
    } catch (error) {
      const last = isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED') && isCalwatchError(error.cause) ? error.cause : error;
      const coded = isCalwatchError(last)
        ? last
        : NOTIFIER_ERRORS.create('NOTIFIER_DELIVERY_GAVE_UP', `target ${target.name}: ${last instanceof Error ? last.name : 'failed'}`);
      result.steps.push({ action, delivered: false, attempts, error: coded });
      break;
    }
  }
  return result;
}
