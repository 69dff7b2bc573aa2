import { IsoInstant, Severity } from '@calwatch/model';
import { z } from 'zod';

/** What can page. Each rule yields conditions keyed by a stable dedup key. */
export const RULE_NAMES = ['leak-rate-spike', 'pool-exhaustion', 'high-severity-finding', 'revocation-limit'] as const;
export const RuleName = z.enum(RULE_NAMES);
export type RuleName = z.infer<typeof RuleName>;

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

export function isAtLeast(severity: Severity, minimum: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[minimum];
}

export const Offender = z.object({
  /** A computer name (or HWID when no name is known). */
  name: z.string(),
  /** CALs attributed to it, when the rule can tell. */
  cals: z.number().int().nonnegative().nullable(),
});
export type Offender = z.infer<typeof Offender>;

/** What a rule says about its condition: the content of every message about it. */
export const AlertDetails = z.object({
  /** What, in one line. */
  title: z.string(),
  /** How bad. */
  severity: Severity,
  summary: z.string(),
  licenseServer: z.string(),
  product: z.string().nullable(),
  /** When the condition began as the rule sees it (e.g. the finding's firstSeen); null: when it triggered. */
  since: IsoInstant.nullable(),
  /** How many CALs the condition concerns (leaked, issued in the spike, left in the pool...). */
  cals: z.number().int().nonnegative(),
  /** Rule-specific figures (rate, baseline, threshold, projection...). */
  metrics: z.record(z.string(), z.union([z.string(), z.number()])),
  topOffenders: z.array(Offender),
  remediation: z.string(),
  /** The finding this is about or the most involved one; drives the link. */
  findingId: z.string().nullable(),
});
export type AlertDetails = z.infer<typeof AlertDetails>;

export const NotificationAction = z.enum(['trigger', 'update', 'resolve', 'test', 'digest']);
export type NotificationAction = z.infer<typeof NotificationAction>;

/**
 * The neutral message every target payload is built from. It is persisted in the outbox
 * and dead-lettered on give-up, so it never holds a target's URL or key.
 */
export const Notification = z.object({
  schemaVersion: z.literal(1),
  action: NotificationAction,
  dedupKey: z.string().min(1).max(255),
  rule: z.union([RuleName, z.literal('test'), z.literal('digest')]),
  /** Increases with every notification about one alert. */
  seq: z.number().int().nonnegative(),
  /** Event time of the decision. */
  at: IsoInstant,
  since: IsoInstant,
  title: z.string(),
  severity: Severity,
  summary: z.string(),
  licenseServer: z.string(),
  product: z.string().nullable(),
  cals: z.number().int().nonnegative(),
  metrics: z.record(z.string(), z.union([z.string(), z.number()])),
  topOffenders: z.array(Offender),
  remediation: z.string(),
  findingId: z.string().nullable(),
  link: z.string().nullable(),
});
export type Notification = z.infer<typeof Notification>;
