import { z } from 'zod';
import { AlertDetails, RuleName, SEVERITY_RANK } from './notification';

/**
 * One alert per dedup key: a pure state machine over event time. Conditions in (active or
 * not, with details), decisions out: trigger, update, resolve or suppressed. Throttling,
 * quiet periods and "one open alert per key" live here and nowhere else.
 */

export const AlertStatus = z.enum(['open', 'resolved']);

export const AlertRecord = z.object({
  dedupKey: z.string(),
  rule: RuleName,
  status: AlertStatus,
  /** Whether the rule currently reports the condition (it may be active while suppressed). */
  conditionActive: z.boolean(),
  since: z.number().nullable(),
  openedAt: z.number().nullable(),
  lastNotifiedAt: z.number().nullable(),
  resolvedAt: z.number().nullable(),
  quietUntil: z.number().nullable(),
  /** A change arrived while throttled: send it when the throttle opens. */
  pendingUpdate: z.boolean(),
  /** Latest details from the rule. */
  details: AlertDetails,
  /** Details as last notified, to tell a material change from noise. */
  notifiedDetails: AlertDetails.nullable(),
});
export type AlertRecord = z.infer<typeof AlertRecord>;

export interface AlertTiming {
  /** Minimum event time between two notifications about one open alert. */
  updateIntervalMs: number;
  /** After a resolve, the same key does not page again for this long. */
  quietPeriodMs: number;
}

export interface Condition {
  dedupKey: string;
  rule: RuleName;
  active: boolean;
  details: AlertDetails;
}

export type DecisionKind = 'trigger' | 'update' | 'resolve' | 'suppressed';
export type SuppressReason = 'throttled' | 'quiet-period';

export interface Decision {
  kind: DecisionKind;
  dedupKey: string;
  rule: RuleName;
  /** Event time of the decision. */
  at: number;
  /** Event time the alert's condition began. */
  since: number;
  details: AlertDetails;
  reason?: SuppressReason;
}

export interface Transition {
  record: AlertRecord;
  decision: Decision | null;
}

/** Fields whose change is worth telling on-call about (noise like a metric's decimals is not). */
function materialFingerprint(details: AlertDetails): string {
  return JSON.stringify([
    details.severity,
    details.cals,
    details.title,
    details.topOffenders.map((o) => o.name),
  ]);
}

function escalated(from: AlertDetails | null, to: AlertDetails): boolean {
  return from !== null && SEVERITY_RANK[to.severity] > SEVERITY_RANK[from.severity];
}

function sinceOf(details: AlertDetails, now: number): number {
  if (details.since === null) return now;
  const parsed = Date.parse(details.since);
  return Number.isFinite(parsed) ? Math.min(parsed, now) : now;
}

function trigger(condition: Condition, now: number): Transition {
  const since = sinceOf(condition.details, now);
  const record: AlertRecord = {
    dedupKey: condition.dedupKey,
    rule: condition.rule,
    status: 'open',
    conditionActive: true,
    since,
    openedAt: now,
    lastNotifiedAt: now,
    resolvedAt: null,
    quietUntil: null,
    pendingUpdate: false,
    details: condition.details,
    notifiedDetails: condition.details,
  };
  return { record, decision: { kind: 'trigger', dedupKey: record.dedupKey, rule: record.rule, at: now, since, details: condition.details } };
}

/** Applies a rule's condition at event time `now`. */
export function applyCondition(current: AlertRecord | undefined, condition: Condition, now: number, timing: AlertTiming): Transition {
  if (current === undefined || current.status === 'resolved') {
    if (!condition.active) {
      return { record: current === undefined ? idleRecord(condition) : { ...current, conditionActive: false, details: condition.details }, decision: null };
    }
    if (current?.quietUntil != null && now < current.quietUntil) {
      const record: AlertRecord = { ...current, conditionActive: true, details: condition.details };
      return { record, decision: suppressed(record, now, 'quiet-period') };
    }
    return trigger(condition, now);
  }

  if (!condition.active) {
    const record: AlertRecord = {
      ...current,
      status: 'resolved',
      conditionActive: false,
      resolvedAt: now,
      quietUntil: now + timing.quietPeriodMs,
      pendingUpdate: false,
      details: condition.details,
      lastNotifiedAt: now,
      notifiedDetails: condition.details,
    };
    return { record, decision: { kind: 'resolve', dedupKey: record.dedupKey, rule: record.rule, at: now, since: record.since ?? now, details: condition.details } };
  }

  const changed = current.notifiedDetails === null || materialFingerprint(current.notifiedDetails) !== materialFingerprint(condition.details);
  if (!changed) return { record: { ...current, conditionActive: true, details: condition.details }, decision: null };
  const throttleOpen = current.lastNotifiedAt === null || now - current.lastNotifiedAt >= timing.updateIntervalMs;
  // A worse severity is news on-call must not wait for; anything else waits for the throttle.
  if (throttleOpen || escalated(current.notifiedDetails, condition.details)) return update(current, condition.details, now);
  const record: AlertRecord = { ...current, conditionActive: true, details: condition.details, pendingUpdate: true };
  return { record, decision: suppressed(record, now, 'throttled') };
}

/** Time passing: throttled updates go out, a condition still active after the quiet period pages again. */
export function advanceAlert(current: AlertRecord, now: number, timing: AlertTiming): Transition {
  if (current.status === 'open' && current.pendingUpdate) {
    if (current.lastNotifiedAt === null || now - current.lastNotifiedAt >= timing.updateIntervalMs) {
      return update(current, current.details, now);
    }
  }
  if (current.status === 'resolved' && current.conditionActive && (current.quietUntil === null || now >= current.quietUntil)) {
    return trigger({ dedupKey: current.dedupKey, rule: current.rule, active: true, details: current.details }, now);
  }
  return { record: current, decision: null };
}

/** A record nobody needs any more: resolved, quiet period over, condition gone. */
export function isForgettable(record: AlertRecord, now: number): boolean {
  if (record.status === 'open' || record.conditionActive) return false;
  return record.quietUntil === null || now >= record.quietUntil;
}

function update(current: AlertRecord, details: AlertDetails, now: number): Transition {
  const record: AlertRecord = {
    ...current,
    conditionActive: true,
    details,
    notifiedDetails: details,
    lastNotifiedAt: now,
    pendingUpdate: false,
  };
  return { record, decision: { kind: 'update', dedupKey: record.dedupKey, rule: record.rule, at: now, since: record.since ?? now, details } };
}

function suppressed(record: AlertRecord, now: number, reason: SuppressReason): Decision {
  return { kind: 'suppressed', dedupKey: record.dedupKey, rule: record.rule, at: now, since: record.since ?? now, details: record.details, reason };
}

function idleRecord(condition: Condition): AlertRecord {
  return {
    dedupKey: condition.dedupKey,
    rule: condition.rule,
    status: 'resolved',
    conditionActive: false,
    since: null,
    openedAt: null,
    lastNotifiedAt: null,
    resolvedAt: null,
    quietUntil: null,
    pendingUpdate: false,
    details: condition.details,
    notifiedDetails: null,
  };
}
