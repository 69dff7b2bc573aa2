import type { EnrichedEvent, Finding } from '@calwatch/model';
import { advanceAlert, applyCondition, isForgettable, type AlertRecord, type AlertTiming, type Condition, type Decision } from './alert-machine';
import { type DigestSettings, type DigestState, buildDigest, closeDigest, digestDue, emptyDigest, noteForDigest } from './digest';
import { EventClock } from './event-clock';
import { evaluateFinding, findingDedupKey, isStaleFinding } from './finding-rule';
import { buildLink, type LinkTemplates } from './links';
import type { Notification, NotificationAction } from './notification';
import { evaluateRevocation, recordRevocationLimit } from './revocation-rule';
import { routeMatches, type TargetRoute } from './routing';
import type { RuleSettings } from './rule-settings';
import { createSeries, isSeriesEmpty, type SeriesState } from './series';
import { STATE_KEYS, decodeStateValue, type StoredAlert } from './state-codec';

/**
 * The notifier's whole decision logic, without I/O: inputs (findings, enriched events,
 * wall-clock ticks) in; decisions, per-target deliveries and state records out. The
 * service persists `takeDirty()` before it hands `takeDeliveries()` to the dispatcher,
 * so a decided notification is never lost and never decided twice.
 */
export interface NotifierCoreOptions {
  rules: RuleSettings;
  timing: AlertTiming;
  routes: readonly TargetRoute[];
  links: LinkTemplates;
  /** Inputs quiet this long let event time follow the wall clock. */
  idleAdvanceAfterMs: number;
  /** The daily digest of low and info findings (null: none). */
  digest?: DigestSettings | null;
  /** Link of the digest (e.g. Kibana's findings view). */
  digestLink?: string | null;
}

export interface Delivery {
  dedupKey: string;
  seq: number;
  target: string;
  notification: Notification;
}

export interface StateRecord {
  key: string;
  /** null deletes the key. */
  value: unknown;
}

export interface NotifierCore {
  /** Folds one alert-state record in (restore); false when it could not be decoded. */
  restoreRecord(key: string, value: unknown, wallNowMs: number): { ok: true } | { ok: false; message: string };
  /** Folds a finding in; decided at the next `decide` (only its latest revision counts). */
  applyFinding(finding: Finding, wallNowMs: number): void;
  /** Folds an enriched event in (event 81 for the revocation-limit rule; every event moves the clock). */
  applyEnriched(enriched: EnrichedEvent, wallNowMs: number): void;
  /** Evaluates what the inputs since the last call changed (once per batch, not per record). */
  decide(wallNowMs: number): Decision[];
  /** Time passing without input: clears, throttled updates, quiet periods ending. */
  tick(wallNowMs: number): Decision[];
  noteApplied(topic: string, partition: number, offset: string): void;
  appliedOffset(topic: string, partition: number): string | undefined;
  /** Deliveries decided since the last call. */
  takeDeliveries(): Delivery[];
  /** Every delivery still in an outbox (after a restore). */
  pendingDeliveries(): Delivery[];
  markDelivered(dedupKey: string, seq: number, target: string, wallNowMs: number): void;
  /** State records changed since the last call. */
  takeDirty(wallNowMs: number): StateRecord[];
  /** Puts keys back after a failed write. */
  markDirty(keys: readonly string[]): void;
  openAlerts(): Array<{ dedupKey: string; rule: string; severity: string }>;
  /** Current event time (null before any input). */
  now(wallNowMs: number): number | null;
  /** Holds event time still while inputs may be waiting unread (no partitions assigned yet). */
  setIdleAdvance(enabled: boolean, wallNowMs: number): void;
}

/**
 * Alerts of rules the notifier no longer has: its own pool and spike rules (keyed by server
 * and product) and pool-exhaustion findings paged as leak findings. Their conditions never
 * come again, so they are resolved once after a restore; the processor's findings page under
 * their own keys.
 */
function isRetiredAlert(alert: AlertRecord): boolean {
  if (alert.status !== 'open') return false;
  if (alert.rule === 'pool-exhaustion') return !alert.dedupKey.startsWith('calwatch/pool-exhaustion/pool-exhaustion:');
  if (alert.rule === 'leak-rate-spike') return !alert.dedupKey.startsWith('calwatch/leak-rate-spike/leak-rate-spike:');
  return alert.rule === 'high-severity-finding' && alert.details.metrics['kind'] === 'pool-exhaustion';
}

/** How often an idle notifier writes its advancing clock (see tick). */
const IDLE_CLOCK_WRITE_INTERVAL_MS = 60_000;

const UNKNOWN_PRODUCT = 'unknown product';

export function createNotifierCore(options: NotifierCoreOptions): NotifierCore {
  const { rules, timing, routes, links } = options;
  const clock = new EventClock(options.idleAdvanceAfterMs);
  let clockWrittenAtWallMs = Number.NEGATIVE_INFINITY;
  const alerts = new Map<string, StoredAlert>();
  const series = new Map<string, SeriesState>();
  const offsets = new Map<string, string>();
  const dirty = new Set<string>();
  /** Series changed by inputs since the last decide. */
  const touched = new Set<string>();
  /** Open alerts of a retired rule (restored from an older notifier): resolved at the next decide. */
  const retired = new Set<string>();
  /** Latest revision per finding since the last decide. */
  const pendingFindings = new Map<string, Finding>();
  let newDeliveries: Delivery[] = [];
  const digestSettings = options.digest ?? null;
  let digest: DigestState = emptyDigest();
  const DIGEST_PREFIX = 'calwatch/digest/';
  const routeNames = new Set(routes.map((r) => r.name));

  function seriesFor(server: string, product: string): SeriesState {
    const key = STATE_KEYS.series(server, product);
    let entry = series.get(key);
    if (entry === undefined) {
      entry = createSeries(server, product);
      series.set(key, entry);
    }
    dirty.add(key);
    touched.add(key);
    return entry;
  }

  function notificationFor(action: NotificationAction, stored: StoredAlert, decision: Decision, seq: number): Notification {
    const d = decision.details;
    return {
      schemaVersion: 1,
      action,
      dedupKey: decision.dedupKey,
      rule: decision.rule,
      seq,
      at: new Date(decision.at).toISOString(),
      since: new Date(decision.since).toISOString(),
      title: d.title,
      severity: d.severity,
      summary: d.summary,
      licenseServer: d.licenseServer,
      product: d.product,
      cals: d.cals,
      metrics: d.metrics,
      topOffenders: d.topOffenders,
      remediation: d.remediation,
      findingId: d.findingId,
      link: buildLink(links, { findingId: d.findingId, licenseServer: d.licenseServer, product: d.product, dedupKey: decision.dedupKey, rule: stored.alert.rule }),
    };
  }

  /** Routes a decision: trigger to matching targets, updates to those paged (or newly matching), resolve to those paged. */
  function route(stored: StoredAlert, decision: Decision): void {
    if (decision.kind === 'suppressed') return;
    const plan: Array<[string, NotificationAction]> = [];
    if (decision.kind === 'trigger') {
      stored.targets = routes.filter((r) => routeMatches(r, decision.rule, decision.details)).map((r) => r.name);
      for (const name of stored.targets) plan.push([name, 'trigger']);
    } else if (decision.kind === 'update') {
      for (const r of routes) {
        const paged = stored.targets.includes(r.name);
        if (paged) plan.push([r.name, 'update']);
        else if (routeMatches(r, decision.rule, decision.details)) {
          // Severity rose into this target's range: for it, this is the first page.
          plan.push([r.name, 'trigger']);
          stored.targets.push(r.name);
        }
      }
    } else {
      for (const name of stored.targets) plan.push([name, 'resolve']);
      stored.targets = [];
    }
    if (plan.length === 0) return;
    stored.seq += 1;
    for (const [target, action] of plan) {
      const notification = notificationFor(action, stored, decision, stored.seq);
      stored.outbox.push({ target, notification });
      newDeliveries.push({ dedupKey: decision.dedupKey, seq: stored.seq, target, notification });
    }
  }

  function store(key: string, stored: StoredAlert | undefined, now: number): void {
    if (stored === undefined) return;
    if (stored.outbox.length === 0 && isForgettable(stored.alert, now)) {
      if (alerts.delete(key)) dirty.add(key);
      return;
    }
    alerts.set(key, stored);
    dirty.add(key);
  }

  function apply(condition: Condition, now: number, out: Decision[]): void {
    const key = STATE_KEYS.alert(condition.dedupKey);
    const existing = alerts.get(key);
    const transition = applyCondition(existing?.alert, condition, now, timing);
    if (existing !== undefined && transition.decision === null && JSON.stringify(existing.alert) === JSON.stringify(transition.record)) return;
    const stored: StoredAlert = existing === undefined
      ? { alert: transition.record, targets: [], seq: 0, outbox: [] }
      : { ...existing, alert: transition.record };
    if (transition.decision !== null) {
      out.push(transition.decision);
      route(stored, transition.decision);
    }
    store(key, stored, now);
  }

  function evaluateSeries(key: string, entry: SeriesState, now: number, out: Decision[]): void {
    const revocation = evaluateRevocation(entry, now, rules);
    if (revocation !== null) {
      apply(revocation, now, out);
      if (!revocation.active) entry.revocation = null;
    }
    if (isSeriesEmpty(entry)) {
      series.delete(key);
      dirty.add(key);
    }
  }

  function applyEvent(enriched: EnrichedEvent, at: number): void {
    const event = enriched.event;
    // Only event 81 is the notifier's own (forwarded as the server reports it); every other
    // decision is a finding of the processor's.
    if (event.type !== 'service.event' || event.event.meaning !== 'revocation-limit-reached') return;
    const fact = event.event;
    recordRevocationLimit(seriesFor(event.licenseServer, fact.product?.trim() || UNKNOWN_PRODUCT), fact, at, rules);
  }

  /** On the wall clock (see digest.ts): once per day at the digest hour, to the digest targets. */
  function sendDigestIfDue(wallNowMs: number): void {
    if (digestSettings === null) return;
    const due = digestDue(digest, wallNowMs, digestSettings.hourUtc);
    if (due === 'not-due') return;
    const targets = digestSettings.targets.filter((t) => routeNames.has(t));
    const notification = due === 'due' && targets.length > 0 ? buildDigest(digest, wallNowMs, digestSettings, options.digestLink ?? null) : null;
    closeDigest(digest, wallNowMs, digestSettings.hourUtc, notification, targets);
    if (notification !== null) {
      for (const target of targets) newDeliveries.push({ dedupKey: notification.dedupKey, seq: notification.seq, target, notification });
    }
    dirty.add(STATE_KEYS.digest);
  }

  function forget(now: number): void {
    for (const [key, stored] of alerts) {
      if (stored.outbox.length === 0 && isForgettable(stored.alert, now)) {
        alerts.delete(key);
        dirty.add(key);
      }
    }
  }

  /** Touched series (every series when time passed), retired alerts, then findings. */
  function decideAt(wallNowMs: number, all: boolean): Decision[] {
    const out: Decision[] = [];
    const now = clock.now(wallNowMs);
    if (now === null) return out;
    for (const key of all ? [...series.keys()] : [...touched]) {
      const entry = series.get(key);
      if (entry !== undefined) evaluateSeries(key, entry, now, out);
    }
    touched.clear();
    for (const key of retired) {
      const stored = alerts.get(key);
      if (stored !== undefined) apply({ dedupKey: stored.alert.dedupKey, rule: stored.alert.rule, active: false, details: stored.alert.details }, now, out);
    }
    retired.clear();
    for (const finding of pendingFindings.values()) {
      if (digestSettings !== null && noteForDigest(digest, finding)) dirty.add(STATE_KEYS.digest);
      const existing = alerts.get(STATE_KEYS.alert(findingDedupKey(finding)));
      const condition = evaluateFinding(finding, rules, existing?.alert.status === 'open');
      if (!isStaleFinding(existing?.alert, finding)) apply(condition, now, out);
    }
    pendingFindings.clear();
    return out;
  }

  return {
    restoreRecord(key, value, wallNowMs) {
      if (value === null) {
        alerts.delete(key);
        series.delete(key);
        if (key.startsWith('offset/')) offsets.delete(key);
        return { ok: true };
      }
      const decoded = decodeStateValue(key, value);
      if (!decoded.ok) return decoded;
      const entry = decoded.entry;
      switch (entry.kind) {
        case 'alert':
          // Targets removed from the configuration since cannot be delivered to.
          entry.value.outbox = entry.value.outbox.filter((o) => routeNames.has(o.target));
          entry.value.targets = entry.value.targets.filter((name) => routeNames.has(name));
          alerts.set(key, entry.value);
          if (isRetiredAlert(entry.value.alert)) retired.add(key);
          else retired.delete(key);
          break;
        case 'series':
          series.set(key, entry.value);
          break;
        case 'keypacks':
          // Older notifiers kept key pack inventories to count CALs per product: delete them.
          dirty.add(key);
          break;
        case 'clock':
          clock.restore(entry.value, wallNowMs);
          break;
        case 'digest':
          digest = entry.value;
          digest.outbox = digest.outbox.filter((o) => digestSettings?.targets.includes(o.target) === true && routeNames.has(o.target));
          break;
        case 'offset':
          offsets.set(key, entry.value.offset);
          break;
      }
      return { ok: true };
    },

    applyFinding(finding, wallNowMs) {
      clock.observe(Date.parse(finding.updatedAt), wallNowMs);
      dirty.add(STATE_KEYS.clock);
      const pending = pendingFindings.get(finding.id);
      if (pending === undefined || finding.revision >= pending.revision) pendingFindings.set(finding.id, finding);
    },

    applyEnriched(enriched, wallNowMs) {
      const at = Date.parse(enriched.event.eventTime);
      clock.observe(at, wallNowMs);
      dirty.add(STATE_KEYS.clock);
      applyEvent(enriched, Math.min(at, wallNowMs));
    },

    decide(wallNowMs) {
      return decideAt(wallNowMs, false);
    },

    tick(wallNowMs) {
      sendDigestIfDue(wallNowMs);
      const out = decideAt(wallNowMs, true);
      const now = clock.now(wallNowMs);
      if (now === null) return out;
      for (const [key, stored] of alerts) {
        const transition = advanceAlert(stored.alert, now, timing);
        if (transition.decision === null) continue;
        const next: StoredAlert = { ...stored, alert: transition.record };
        out.push(transition.decision);
        route(next, transition.decision);
        store(key, next, now);
      }
      forget(now);
      // While inputs are quiet the clock moves with the wall clock on every tick; writing it
      // each time would stream state records while nothing happens. A decision writes it at
      // once; otherwise once a minute keeps a restart from losing much idle progress.
      if (out.length > 0 || wallNowMs - clockWrittenAtWallMs >= IDLE_CLOCK_WRITE_INTERVAL_MS) dirty.add(STATE_KEYS.clock);
      return out;
    },

    noteApplied(topic, partition, offset) {
      const key = STATE_KEYS.offset(topic, partition);
      offsets.set(key, offset);
      dirty.add(key);
    },

    appliedOffset(topic, partition) {
      return offsets.get(STATE_KEYS.offset(topic, partition));
    },

    takeDeliveries() {
      const taken = newDeliveries;
      newDeliveries = [];
      return taken;
    },

    pendingDeliveries() {
      const pending: Delivery[] = [];
      for (const stored of alerts.values()) {
        for (const o of stored.outbox) {
          pending.push({ dedupKey: o.notification.dedupKey, seq: o.notification.seq, target: o.target, notification: o.notification });
        }
      }
      for (const o of digest.outbox) pending.push({ dedupKey: o.notification.dedupKey, seq: o.notification.seq, target: o.target, notification: o.notification });
      return pending.sort((a, b) => a.notification.at.localeCompare(b.notification.at) || a.seq - b.seq);
    },

    markDelivered(dedupKey, seq, target, wallNowMs) {
      if (dedupKey.startsWith(DIGEST_PREFIX)) {
        const outbox = digest.outbox.filter((o) => !(o.target === target && o.notification.seq === seq));
        if (outbox.length !== digest.outbox.length) {
          digest.outbox = outbox;
          dirty.add(STATE_KEYS.digest);
        }
        return;
      }
      const key = STATE_KEYS.alert(dedupKey);
      const stored = alerts.get(key);
      if (stored === undefined) return;
      const outbox = stored.outbox.filter((o) => !(o.target === target && o.notification.seq === seq));
      if (outbox.length === stored.outbox.length) return;
      const next = { ...stored, outbox };
      store(key, next, clock.now(wallNowMs) ?? 0);
    },

    takeDirty(wallNowMs) {
      const records: StateRecord[] = [];
      for (const key of dirty) {
        let value: unknown = null;
        if (key === STATE_KEYS.clock) {
          value = clock.snapshot(wallNowMs);
          clockWrittenAtWallMs = wallNowMs;
        }
        else if (key === STATE_KEYS.digest) value = digest;
        else if (key.startsWith('alert/')) value = alerts.get(key) ?? null;
        else if (key.startsWith('series/')) value = series.get(key) ?? null;
        else if (key.startsWith('offset/')) {
          const offset = offsets.get(key);
          value = offset === undefined ? null : { offset };
        }
        records.push({ key, value });
      }
      dirty.clear();
      return records;
    },

    markDirty(keys) {
      for (const key of keys) dirty.add(key);
    },

    openAlerts() {
      return [...alerts.values()]
        .filter((s) => s.alert.status === 'open')
        .map((s) => ({ dedupKey: s.alert.dedupKey, rule: s.alert.rule, severity: s.alert.details.severity }));
    },

    now(wallNowMs) {
      return clock.now(wallNowMs);
    },

    setIdleAdvance(enabled, wallNowMs) {
      clock.setIdleAdvance(enabled, wallNowMs);
    },
  };
}
