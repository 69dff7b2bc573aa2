import { readFileSync } from 'node:fs';
import { Severity } from '@calwatch/model';
import { boolVar, csvList, deepFreeze, formatConfigIssues, intVar, kafkaEnvShape, loadConfig, logLevelEnvShape, toKafkaConfig, type Env, type KafkaConfig, type LogLevel } from '@calwatch/runtime';
import { z } from 'zod';
import type { AlertTiming } from './alert-machine';
import { NOTIFIER_ERRORS } from './errors';
import type { DigestSettings } from './digest';
import type { LinkTemplates } from './links';
import { RULE_NAMES, RuleName } from './notification';
import type { TargetRoute } from './routing';
import type { RuleSettings } from './rule-settings';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A target's name is how `calwatch notify test <name>` and the logs refer to it (never by URL). */
const targetName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _ (max 63)');

const routing = {
  name: targetName,
  minSeverity: Severity.default('info').describe('Only alerts at or above this severity reach the target.'),
  rules: z.array(RuleName).min(1).optional().describe('Only these rules reach the target (default: all).'),
  licenseServers: z
    .array(z.string().min(1).transform((s) => s.trim().toUpperCase()))
    .min(1)
    .optional()
    .describe('Only alerts about these license servers reach the target (default: all).'),
  timeoutMs: z.number().int().min(100).optional().describe('Per-request timeout; default NOTIFIER_HTTP_TIMEOUT_MS.'),
};

const httpUrl = z.url({ protocol: /^https?$/ });

export const WebhookTarget = z.object({
  ...routing,
  type: z.literal('webhook'),
  url: httpUrl,
  /** Signs each body (HMAC-SHA256) so the receiver can check it came from calwatch. */
  secret: z.string().min(16).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).default({}),
});

export const SlackTarget = z.object({
  ...routing,
  type: z.literal('slack'),
  url: httpUrl,
});

export const PagerDutyTarget = z.object({
  ...routing,
  type: z.literal('pagerduty'),
  url: httpUrl.default('https://events.pagerduty.com/v2/enqueue'),
  routingKey: z.string().min(1),
});

export const TeamsTarget = z.object({
  ...routing,
  type: z.literal('teams'),
  url: httpUrl,
});

export const TargetConfig = z.discriminatedUnion('type', [WebhookTarget, SlackTarget, PagerDutyTarget, TeamsTarget]);
export type TargetConfig = z.infer<typeof TargetConfig>;

export const TargetList = z.array(TargetConfig).superRefine((targets, ctx) => {
  const seen = new Set<string>();
  targets.forEach((target, index) => {
    if (seen.has(target.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `duplicate target name '${target.name}'` });
    seen.add(target.name);
  });
});

/** The file NOTIFIER_CONFIG_FILE points to. */
export const NotifierConfigFile = z.object({ targets: TargetList });

const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8 quotes a snippet of the input in its message, and the input may hold a secret.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    ctx.addIssue({ code: 'custom', message: `not valid JSON${position === undefined ? '' : ` (at position ${position})`}` });
    return z.NEVER;
  }
});

/** Every environment variable the notifier reads; the README's reference is checked against it. */
export const notifierEnvShape = {
  ...kafkaEnvShape,
  ...logLevelEnvShape,
  NOTIFIER_GROUP_ID: z.string().min(1).default('calwatch-notifier').describe('Consumer group of the notifier. Run one instance per group: alert state is not shared.'),
  NOTIFIER_FROM_BEGINNING: boolVar.default(false).describe('A new consumer group starts at the beginning of findings/enriched instead of the end.'),
  NOTIFIER_TARGETS: jsonText.pipe(TargetList).optional().describe('Targets as a JSON array (see docs/notifier.md). Exclusive with NOTIFIER_CONFIG_FILE.'),
  NOTIFIER_CONFIG_FILE: z.string().min(1).optional().describe('Path of a JSON file {"targets": [...]}; "${VAR}" in it is replaced by the environment variable VAR, so secrets can stay out of the file.'),
  NOTIFIER_RULES: csvList.pipe(z.array(RuleName).min(1)).default([...RULE_NAMES]).describe(`Enabled rules, comma-separated: ${RULE_NAMES.join(', ')}.`),
  NOTIFIER_FINDING_MIN_SEVERITY: z.enum(['medium', 'high', 'critical']).default('high').describe('Open findings at or above this severity page (low and info findings never page).'),
  NOTIFIER_REVOCATION_CLEAR_MS: intVar(1).default(DAY).describe('A revocation-limit alert without a next-allowed date resolves this long after the last event.'),
  NOTIFIER_TOP_OFFENDERS: intVar(1).default(5).describe('Offenders listed per message.'),
  NOTIFIER_UPDATE_INTERVAL_MS: intVar(0).default(4 * HOUR).describe('An open alert is updated at most this often, and only on a material change (a severity increase goes out at once).'),
  NOTIFIER_REOPEN_COOLDOWN_MS: intVar(0).default(6 * HOUR).describe('A cleared alert resolves only after this long (event time); recurring sooner, it continues the same incident instead of paging again.'),
  NOTIFIER_QUIET_PERIOD_MS: intVar(0).default(HOUR).describe('After a resolve, the same alert does not page again for this long.'),
  NOTIFIER_IDLE_ADVANCE_AFTER_MS: intVar(0).default(MINUTE).describe('Once inputs are quiet this long, event time follows the wall clock so conditions can clear.'),
  NOTIFIER_TICK_INTERVAL_MS: intVar(10).default(15_000).describe('How often time-driven decisions (clears, throttled updates) are checked.'),
  NOTIFIER_HTTP_TIMEOUT_MS: intVar(100).default(10_000).describe('Per-request timeout towards a target.'),
  NOTIFIER_RETRY_MIN_DELAY_MS: intVar(1).default(1_000).describe('First retry delay (exponential backoff with full jitter).'),
  NOTIFIER_RETRY_MAX_DELAY_MS: intVar(1).default(60_000).describe('Largest retry delay.'),
  NOTIFIER_GIVE_UP_AFTER_MS: intVar(1).default(15 * MINUTE).describe('A delivery still failing after this is dead-lettered and counted.'),
  NOTIFIER_DRAIN_TIMEOUT_MS: intVar(0).default(10_000).describe('At shutdown, how long deliveries in flight may finish; the rest stay in the persisted outbox.'),
  NOTIFIER_KIBANA_URL: httpUrl.optional().describe('Base URL of Kibana (e.g. https://kibana.example:5601): pages link to the finding in Discover unless NOTIFIER_FINDING_URL_TEMPLATE says otherwise.'),
  NOTIFIER_FINDING_URL_TEMPLATE: z.string().min(1).optional().describe('Link to a finding, e.g. a Kibana Discover URL with {findingId}; also {licenseServer}, {product}, {dedupKey}, {rule}.'),
  NOTIFIER_SERVER_URL_TEMPLATE: z.string().min(1).optional().describe('Link for alerts without a finding, e.g. a Kibana dashboard filtered by {licenseServer}.'),
  NOTIFIER_DIGEST_TARGETS: csvList.pipe(z.array(targetName)).default([]).describe('Targets that get the daily digest of low and info findings (comma-separated target names; none: no digest).'),
  NOTIFIER_DIGEST_HOUR_UTC: intVar(0).max(23).default(7).describe('Hour of the day (UTC, wall clock) at which the daily digest goes out.'),
  NOTIFIER_METRICS_PORT: intVar(0)
    .max(65_535)
    .default(9466)
    .describe('Port of the HTTP endpoint with /metrics (Prometheus), /healthz and /readyz (503 unless running, and while a Kafka outage is ridden out); 0 picks a free port.'),
};

export const NotifierEnvSchema = z
  .object(notifierEnvShape)
  .refine((env) => !(env.NOTIFIER_TARGETS !== undefined && env.NOTIFIER_CONFIG_FILE !== undefined), {
    message: 'set NOTIFIER_TARGETS or NOTIFIER_CONFIG_FILE, not both',
    path: ['NOTIFIER_CONFIG_FILE'],
  })
  .refine((env) => env.NOTIFIER_RETRY_MIN_DELAY_MS <= env.NOTIFIER_RETRY_MAX_DELAY_MS, {
    message: 'must not exceed NOTIFIER_RETRY_MAX_DELAY_MS',
    path: ['NOTIFIER_RETRY_MIN_DELAY_MS'],
  });
export type NotifierEnv = z.infer<typeof NotifierEnvSchema>;

export interface DeliverySettings {
  timeoutMs: number;
  retryMinDelayMs: number;
  retryMaxDelayMs: number;
  giveUpAfterMs: number;
  drainTimeoutMs: number;
}

export interface NotifierConfig {
  kafka: KafkaConfig;
  topicPrefix: string;
  logLevel: LogLevel;
  groupId: string;
  fromBeginning: boolean;
  targets: readonly TargetConfig[];
  rules: RuleSettings;
  timing: AlertTiming;
  idleAdvanceAfterMs: number;
  tickIntervalMs: number;
  delivery: DeliverySettings;
  links: LinkTemplates;
  /** The daily digest of low and info findings; null without digest targets. */
  digest: DigestSettings | null;
  /** Link of the digest: Kibana's findings view of low and info findings. */
  digestLink: string | null;
  /** Of /metrics, /healthz and /readyz; 0 picks a free port. */
  metricsPort: number;
}

export interface ConfigIo {
  readFile(path: string): string;
}

const defaultIo: ConfigIo = { readFile: (path) => readFileSync(path, 'utf8') };

/** Replaces `${VAR}` with the variable's value; names of missing variables are reported, values never. */
export function expandVariables(text: string, env: Env): { text: string; missing: string[] } {
  const missing: string[] = [];
  const expanded = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) {
      missing.push(name);
      return '';
    }
    // The value lands inside a JSON string: escape it as one.
    return JSON.stringify(value).slice(1, -1);
  });
  return { text: expanded, missing };
}

function readTargetsFile(path: string, env: Env, io: ConfigIo): TargetConfig[] {
  let raw: string;
  try {
    raw = io.readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw NOTIFIER_ERRORS.create('NOTIFIER_CONFIG_INVALID', `invalid configuration:\n  NOTIFIER_CONFIG_FILE: cannot read ${path} (${code})`, { context: { path } });
  }
  const { text, missing } = expandVariables(raw, env);
  if (missing.length > 0) {
    throw NOTIFIER_ERRORS.create('NOTIFIER_CONFIG_INVALID', `invalid configuration:\n  NOTIFIER_CONFIG_FILE: ${path} refers to unset variables: ${missing.join(', ')}`, {
      context: { path, missing },
    });
  }
  const parsed = jsonText.pipe(NotifierConfigFile).safeParse(text);
  if (!parsed.success) {
    throw NOTIFIER_ERRORS.create('NOTIFIER_CONFIG_INVALID', `invalid configuration in ${path}:\n${formatConfigIssues(redactIssues(parsed.error.issues))}`, {
      context: { path },
    });
  }
  return parsed.data.targets;
}

/** zod may echo the offending input in a message; a URL or key must not reach an error text. */
function redactIssues(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.map((issue) => ({ ...issue, input: undefined }) as z.core.$ZodIssue);
}

/** Parses the notifier's configuration once; targets come from NOTIFIER_TARGETS or NOTIFIER_CONFIG_FILE. */
export function loadNotifierConfig(env: Env, io: ConfigIo = defaultIo): NotifierConfig {
  const e = loadConfig(NotifierEnvSchema, env);
  const targets = e.NOTIFIER_CONFIG_FILE !== undefined ? readTargetsFile(e.NOTIFIER_CONFIG_FILE, env, io) : (e.NOTIFIER_TARGETS ?? []);
  const unknownDigestTargets = e.NOTIFIER_DIGEST_TARGETS.filter((name) => !targets.some((t) => t.name === name));
  if (unknownDigestTargets.length > 0) {
    throw NOTIFIER_ERRORS.create('NOTIFIER_CONFIG_INVALID', `invalid configuration:\n  NOTIFIER_DIGEST_TARGETS: no target named ${unknownDigestTargets.join(', ')}`, {
      context: { unknown: unknownDigestTargets },
    });
  }
  // Not a schema transform like the other services': the targets file is read (and its
  // variables expanded) after the variables parse. The result is frozen all the same.
  const { kafka, topicPrefix } = toKafkaConfig(e);
  return deepFreeze({
    kafka,
    topicPrefix,
    logLevel: e.LOG_LEVEL,
    groupId: e.NOTIFIER_GROUP_ID,
    fromBeginning: e.NOTIFIER_FROM_BEGINNING,
    targets,
    rules: {
      enabled: new Set(e.NOTIFIER_RULES),
      finding: { minSeverity: e.NOTIFIER_FINDING_MIN_SEVERITY },
      revocation: { clearAfterMs: e.NOTIFIER_REVOCATION_CLEAR_MS },
      topOffenders: e.NOTIFIER_TOP_OFFENDERS,
    },
    timing: { updateIntervalMs: e.NOTIFIER_UPDATE_INTERVAL_MS, quietPeriodMs: e.NOTIFIER_QUIET_PERIOD_MS, reopenCooldownMs: e.NOTIFIER_REOPEN_COOLDOWN_MS },
    idleAdvanceAfterMs: e.NOTIFIER_IDLE_ADVANCE_AFTER_MS,
    tickIntervalMs: e.NOTIFIER_TICK_INTERVAL_MS,
    delivery: {
      timeoutMs: e.NOTIFIER_HTTP_TIMEOUT_MS,
      retryMinDelayMs: e.NOTIFIER_RETRY_MIN_DELAY_MS,
      retryMaxDelayMs: e.NOTIFIER_RETRY_MAX_DELAY_MS,
      giveUpAfterMs: e.NOTIFIER_GIVE_UP_AFTER_MS,
      drainTimeoutMs: e.NOTIFIER_DRAIN_TIMEOUT_MS,
    },
    links: {
      finding: e.NOTIFIER_FINDING_URL_TEMPLATE ?? (e.NOTIFIER_KIBANA_URL === undefined ? null : kibanaFindingTemplate(e.NOTIFIER_KIBANA_URL)),
      server: e.NOTIFIER_SERVER_URL_TEMPLATE ?? null,
    },
    digest: e.NOTIFIER_DIGEST_TARGETS.length === 0 ? null : { targets: e.NOTIFIER_DIGEST_TARGETS, hourUtc: e.NOTIFIER_DIGEST_HOUR_UTC, listed: 10 },
    digestLink: e.NOTIFIER_KIBANA_URL === undefined ? null : kibanaDigestUrl(e.NOTIFIER_KIBANA_URL),
    metricsPort: e.NOTIFIER_METRICS_PORT,
  });
}

/** Kibana Discover on the findings data view, filtered to one finding id. */
export function kibanaFindingTemplate(baseUrl: string): string {
  // The findings data view of deploy/kibana, over a year: a finding stays open for weeks.
  return `${baseUrl.replace(/\/+$/, '')}/app/discover#/?_g=(time:(from:now-1y,to:now))&_a=(index:'calwatch-findings',query:(language:kuery,query:'calwatch.finding.id:"{findingId}"'))`;
}

/** Kibana Discover on the findings data view, filtered to low and info findings of the last two days. */
export function kibanaDigestUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/app/discover#/?_g=(time:(from:now-2d,to:now))&_a=(index:'calwatch-findings',query:(language:kuery,query:'calwatch.finding.severity:(low or info)'))`;
}

/** What the rules need to know about a target: its routing, no URL or secret. */
export function toRoute(target: TargetConfig): TargetRoute {
  return {
    name: target.name,
    minSeverity: target.minSeverity,
    rules: target.rules ?? null,
    licenseServers: target.licenseServers ?? null,
  };
}
