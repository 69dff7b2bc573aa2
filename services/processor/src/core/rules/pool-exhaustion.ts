import type { Severity } from '@calwatch/model';
import type { CoreConfig } from '../config';
import type { DerivedFinding, Evidence, Resolution } from '../finding-track';
import type { DayCounts, PoolInventory, ProductState } from '../pool';
import { plural } from '../text';
import { DAY_MS, daysToMs, toDay } from '../time';

/**
 * Rule `pool-exhaustion`: a product's permanent per-device pool is exhausted or about to
 * be, from the inventory, the issuance rate, temporaries issued while empty and events
 * 20/21/22 not yet contradicted by a newer inventory.
 */

/** What the rule reads: one product's pool on one server, never the whole by-server state. */
export interface PoolExhaustionView {
  readonly server: string;
  /** What the server's events and issuances say about the product's pool. */
  readonly product: Readonly<ProductState>;
  readonly inventory: PoolInventory;
  /** The product's per-device key packs, sorted. */
  readonly keyPackIds: number[];
  readonly clock: number;
  /** Evidence of the message being applied, for the timeline of an opening episode. */
  readonly evidence: readonly Evidence[];
  /** CALs reclaimable from open leak findings on this product: read only when the texts are built. */
  readonly reclaimable: () => { cals: number; findings: number };
}

export type PoolExhaustionConfig = Pick<CoreConfig, 'pool' | 'lifecycle'>;

export function derivePoolExhaustion(view: PoolExhaustionView, config: PoolExhaustionConfig): DerivedFinding | null {
  const { server, product, clock, evidence } = view;
  const assessment = assessPool(product, view.inventory, clock, config);
  if (!assessment.open) return null;
  const display = product.display;
  return {
    severity: assessment.severity,
    hwids: [],
    computers: [],
    licenseIds: [],
    keyPackIds: view.keyPackIds,
    candidates: [],
    firstSeen: Math.min(clock, assessment.lastEvidenceAt),
    lastSeen: assessment.lastEvidenceAt,
    describe() {
      return {
        summary: `${display} per-device CALs on ${server}: ${assessment.reasons.join('; ')}`,
        remediation: poolRemediation(server, display, assessment.reasons, view.reclaimable(), config.lifecycle.temporaryDays),
      };
    },
    history() {
      return [...evidence];
    },
  };
}

export function resolvePoolExhaustion({ server, product }: PoolExhaustionView): Resolution {
  return {
    summary: `${product.display} per-device CALs on ${server}: the pool has room again`,
    remediation: 'Nothing to do.',
    note: 'resolved: pool no longer low or exhausted',
  };
}

export interface PoolAssessment {
  open: boolean;
  severity: Severity;
  reasons: readonly string[];
  inventory: PoolInventory;
  /** The earliest time a piece of evidence ages out (null: nothing ages). */
  expiresAt: number | null;
  empty: boolean;
  /** The newest piece of evidence behind the assessment. */
  lastEvidenceAt: number;
}

export function lowThreshold(installed: number, config: Pick<CoreConfig, 'pool'>): number {
  return Math.max(config.pool.lowAvailableCount, Math.ceil(config.pool.lowAvailableRatio * installed));
}

const always = () => true;

/** Days overlapping (from, to] that pass the filter: their total, and the first and last of them (NaN: none). */
interface WindowCount {
  total: number;
  firstDay: number;
  lastDay: number;
}

/**
 * Runs on every permanent CAL issued (refreshPools asks whether the pool is low): a count,
 * with nothing allocated but its result.
 */
function inWindow(counts: DayCounts, from: number, to: number, keep: (dayEnd: number) => boolean = always): WindowCount {
  let total = 0;
  let firstDay = Number.NaN;
  let lastDay = Number.NaN;
  for (let i = 0; i < counts.length; i++) {
    const [day, n] = counts[i]!;
    if (!((day + 1) * DAY_MS > from && day * DAY_MS <= to && keep((day + 1) * DAY_MS))) continue;
    total += n;
    if (Number.isNaN(firstDay)) firstDay = day;
    lastDay = day;
  }
  return { total, firstDay, lastDay };
}

/**
 * Is the product's permanent pool exhausted or about to be? Evidence: the inventory
 * (available at or under the low mark, or zero), the issuance rate projected over the
 * horizon, temporaries issued while empty, and events 20/21/22 not yet contradicted by a
 * newer inventory.
 */
export function assessPool(product: Readonly<ProductState>, inventory: PoolInventory, clock: number, config: Pick<CoreConfig, 'pool'>): PoolAssessment {
  // Asked on every permanent CAL issued, where the answer is nearly always "no reason":
  // nothing is allocated but the result until a reason is found.
  const ttl = daysToMs(config.pool.eventTtlDays);
  let found: Reasons | undefined;
  const low = inventory.known ? lowThreshold(inventory.installed, config) : 0;

  const empty = inventory.known && inventory.installed > 0 && inventory.available === 0;
  let exhausted = false;
  if (inventory.known && inventory.installed > 0) {
    if (empty) {
      found = withReason(found, clock, `0 of ${inventory.installed} available`, inventory.at);
      exhausted = true;
    } else if (inventory.available <= low) {
      found = withReason(found, clock, `${inventory.available} of ${inventory.installed} available`, inventory.at);
    }
  }
  const exhaustedEvent = isActive(product.exhausted, inventory, low, clock, ttl);
  if (exhaustedEvent) {
    found = withReason(found, clock, `event 21 (no permanent CALs left) on ${toDay(product.exhausted!.at)}`, product.exhausted!.at, product.exhausted!.at + ttl);
    exhausted = true;
  }
  if (isActive(product.noneInstalled, inventory, low, clock, ttl) && !(inventory.known && inventory.installed > 0 && inventory.at > product.noneInstalled!.at)) {
    found = withReason(found, clock, `event 22 (no CALs installed for this product) on ${toDay(product.noneInstalled!.at)}`, product.noneInstalled!.at, product.noneInstalled!.at + ttl);
    exhausted = true;
  }
  if (isActive(product.low, inventory, low, clock, ttl)) {
    const remaining = product.low!.remaining;
    found = withReason(found, clock, `event 20 (few CALs left${remaining === null ? '' : `: ${remaining}`}) on ${toDay(product.low!.at)}`, product.low!.at, product.low!.at + ttl);
  }

  // The rate only counts against a known inventory with room.
  if (inventory.known && !empty) {
    const rateWindow = daysToMs(config.pool.rateWindowDays);
    const issues = inWindow(product.permanentIssues, clock - rateWindow, clock);
    if (issues.total > 0) {
      const perDay = issues.total / config.pool.rateWindowDays;
      const daysLeft = inventory.available / perDay;
      if (daysLeft <= config.pool.horizonDays) {
        found = withReason(
          found,
          clock,
          `about ${Math.max(0, Math.floor(daysLeft))} days left at ${round1(perDay)} new CALs per day`,
          Math.min(clock, (issues.lastDay + 1) * DAY_MS),
          (issues.firstDay + 1) * DAY_MS + rateWindow,
        );
      }
    }
  }

  let temporaries = 0;
  if (product.temporariesWhileEmpty.length > 0) {
    const tempWindow = daysToMs(config.pool.temporaryWindowDays);
    // Temporaries issued before a newer inventory with room no longer say the pool is empty.
    const temps = inWindow(product.temporariesWhileEmpty, clock - tempWindow, clock, (dayEnd) => !isContradicted(dayEnd - 1, inventory, low));
    temporaries = temps.total;
    if (temps.total > 0) {
      found = withReason(
        found,
        clock,
        `${plural(temps.total, 'temporary CAL')} issued while the pool was empty`,
        Math.min(clock, (temps.lastDay + 1) * DAY_MS),
        (temps.firstDay + 1) * DAY_MS + tempWindow,
      );
    }
  }

  const severity: Severity = exhausted ? (temporaries > 0 ? 'critical' : 'high') : temporaries > 0 ? 'high' : 'medium';
  return {
    open: found !== undefined,
    severity,
    reasons: found?.reasons ?? NO_REASONS,
    inventory,
    expiresAt: found === undefined || found.expiresAt === Number.POSITIVE_INFINITY ? null : found.expiresAt,
    empty: empty || exhaustedEvent,
    lastEvidenceAt: found?.lastEvidenceAt ?? clock,
  };
}

const NO_REASONS: readonly string[] = Object.freeze([]);

/** The reasons found so far, the earliest of their expiries after the clock (Infinity: none) and their newest evidence. */
interface Reasons {
  reasons: string[];
  expiresAt: number;
  lastEvidenceAt: number;
}

function withReason(found: Reasons | undefined, clock: number, reason: string, evidenceAt: number, expiry?: number): Reasons {
  const to = found ?? { reasons: [], expiresAt: Number.POSITIVE_INFINITY, lastEvidenceAt: evidenceAt };
  to.reasons.push(reason);
  if (evidenceAt > to.lastEvidenceAt) to.lastEvidenceAt = evidenceAt;
  if (expiry !== undefined && expiry > clock && expiry < to.expiresAt) to.expiresAt = expiry;
  return to;
}

/** A newer inventory with room to spare contradicts an older "low/exhausted" event. */
function isContradicted(at: number, inventory: PoolInventory, low: number): boolean {
  return inventory.known && inventory.at > at && inventory.available > low;
}

function isActive(evidence: { at: number } | null, inventory: PoolInventory, low: number, clock: number, ttl: number): boolean {
  return evidence !== null && evidence.at <= clock && clock - evidence.at < ttl && !isContradicted(evidence.at, inventory, low);
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function poolRemediation(
  server: string,
  display: string,
  reasons: readonly string[],
  reclaim: { cals: number; findings: number },
  temporaryDays: number,
): string {
  if (reasons.some((r) => r.startsWith('event 22'))) {
    return `Install ${display} RDS Per Device CALs on ${server}, or point the session hosts at a license server that has them: it has none for this product.`;
  }
  const first =
    reclaim.cals > 0
      ? `Reclaim leaked CALs first: ${plural(reclaim.cals, 'CAL')} reclaimable across ${plural(reclaim.findings, 'leak finding')} on ${server} (see their revoke plans); then buy`
      : 'Buy';
  return `${first} and install more ${display} RDS Per Device CALs if the pool is still short. Devices left on temporary CALs are refused once those expire, ${temporaryDays} days after issue.`;
}
