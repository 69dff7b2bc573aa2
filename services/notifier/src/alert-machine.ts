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
  /**
   * The condition cleared at this event time; the resolve waits for the reopen cool-down, so
   * a recurrence within it continues this incident instead of paging a new one.
   */
  resolvePendingSince: z.number().nullable().optional(),
});
export type AlertRecord = z.infer<typeof AlertRecord>;

export interface AlertTiming {
  /** Minimum event time between two notifications about one open alert. */
  updateIntervalMs: number;
  /** After a resolve, the same key does not page again for this long. */
  quietPeriodMs: number;
  /** A cleared condition is resolved only after this long; recurring sooner, it is the same incident. */
  reopenCooldownMs: number;
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

/** CAL counts are told in bands (0, 1-9, 10-99, 100-999, 1000+): one more leaked CAL is not news. */
export function calsBand(cals: number): number {
  return cals <= 0 ? 0 : Math.min(4, Math.floor(Math.log10(cals)) + 1);
}

/**
 * What makes an update worth sending: the incident got worse — a higher severity, the CAL
 * count into a higher band, more devices (their count when the rule gives one, else new
 * names) — or its cause stopped. A count moving within its band, a metric's decimals, a
 * reworded summary are not news, and neither is an incident getting better: that shows in
 * Kibana and in the resolve, and telling it would page for every swing back and forth.
 */
export function isMaterialChange(notified: AlertDetails, next: AlertDetails): boolean {
  if (SEVERITY_RANK[next.severity] > SEVERITY_RANK[notified.severity]) return true;
  if (calsBand(next.cals) > calsBand(notified.cals)) return true;
  const before = notified.metrics['devices'];
  const after = next.metrics['devices'];
  if (typeof before === 'number' && typeof after === 'number') {
    if (after > before) return true;
  } else {
    const known = new Set(notified.topOffenders.map((o) => o.name));
    if (next.topOffenders.some((o) => !known.has(o.name))) return true;
  }
  return next.metrics['status'] === 'cause-stopped' && notified.metrics['status'] !== 'cause-stopped';
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
    const pendingSince = current.resolvePendingSince ?? now;
    if (now - pendingSince < timing.reopenCooldownMs) {
      return { record: { ...current, conditionActive: false, resolvePendingSince: pendingSince, details: condition.details }, decision: null };
    }
    return resolve(current, condition.details, now, timing);
  }

  // Back within the cool-down: the same incident goes on, no new page for it.
  const ongoing: AlertRecord = current.resolvePendingSince == null ? current : { ...current, resolvePendingSince: null };
  const changed = ongoing.notifiedDetails === null || isMaterialChange(ongoing.notifiedDetails, condition.details);
  if (!changed) return { record: { ...ongoing, conditionActive: true, details: condition.details }, decision: null };
  const throttleOpen = ongoing.lastNotifiedAt === null || now - ongoing.lastNotifiedAt >= timing.updateIntervalMs;
  // A worse severity is news on-call must not wait for; anything else waits for the throttle.
  if (throttleOpen || escalated(ongoing.notifiedDetails, condition.details)) return update(ongoing, condition.details, now);
  const record: AlertRecord = { ...ongoing, conditionActive: true, details: condition.details, pendingUpdate: true };
  return { record, decision: suppressed(record, now, 'throttled') };
}

function resolve(current: AlertRecord, details: AlertDetails, now: number, timing: AlertTiming): Transition {
  const record: AlertRecord = {
    ...current,
    status: 'resolved',
    conditionActive: false,
    resolvedAt: now,
    quietUntil: now + timing.quietPeriodMs,
    pendingUpdate: false,
    details,
    lastNotifiedAt: now,
    notifiedDetails: details,
    resolvePendingSince: null,
  };
  return { record, decision: { kind: 'resolve', dedupKey: record.dedupKey, rule: record.rule, at: now, since: record.since ?? now, details } };
}

/** Time passing: held resolves go out after the cool-down, throttled updates after the interval, a condition still active after the quiet period pages again. */
export function advanceAlert(current: AlertRecord, now: number, timing: AlertTiming): Transition {
  if (current.status === 'open' && current.resolvePendingSince != null) {
    if (now - current.resolvePendingSince >= timing.reopenCooldownMs) return resolve(current, current.details, now, timing);
    return { record: current, decision: null };
  }
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
