import { z } from 'zod';
import type { Severity } from '@calwatch/shared';
import type { CoreConfig } from './config';
import { plural } from './text';
import { DAY_MS, daysToMs, toDay } from './time';

/** One key pack as the latest inventory showed it. */
export const KeyPackState = z.object({
  product: z.string(),
  productVersion: z.string(),
  perDevice: z.boolean(),
  total: z.number().int(),
  available: z.number().int(),
  issued: z.number().int(),
  at: z.number(),
});
export type KeyPackState = z.infer<typeof KeyPackState>;

/** What the server's events and issuances say about one product's pool. */
export const ProductState = z.object({
  display: z.string(),
  low: z.object({ at: z.number(), remaining: z.number().int().nullable(), eventId: z.string() }).nullable(),
  exhausted: z.object({ at: z.number(), eventId: z.string() }).nullable(),
  noneInstalled: z.object({ at: z.number(), eventId: z.string() }).nullable(),
  revokeLimit: z
    .object({
      at: z.number(),
      revokedCount: z.number().int().nullable(),
      installedCount: z.number().int().nullable(),
      nextAllowedAt: z.number().nullable(),
    })
    .nullable(),
  /** Permanent CALs issued per UTC day ([day index, count], sorted), for the issuance rate. */
  permanentIssues: z.array(z.tuple([z.number().int(), z.number().int().positive()])),
  /** Temporary CALs handed out while the pool was empty, per UTC day. */
  temporariesWhileEmpty: z.array(z.tuple([z.number().int(), z.number().int().positive()])),
});
export type ProductState = z.infer<typeof ProductState>;

export function emptyProduct(display: string): ProductState {
  return { display, low: null, exhausted: null, noneInstalled: null, revokeLimit: null, permanentIssues: [], temporariesWhileEmpty: [] };
}

export interface PoolInventory {
  known: boolean;
  installed: number;
  available: number;
  /** Newest inventory time among the product's key packs. */
  at: number;
}

export function inventoryOf(keyPacks: Iterable<KeyPackState>, product: string): PoolInventory {
  let known = false;
  let installed = 0;
  let available = 0;
  let at = Number.NEGATIVE_INFINITY;
  for (const kp of keyPacks) {
    if (kp.product !== product || !kp.perDevice) continue;
    known = true;
    installed += kp.total;
    available += kp.available;
    at = Math.max(at, kp.at);
  }
  return { known, installed, available, at };
}

export interface PoolAssessment {
  open: boolean;
  severity: Severity;
  reasons: string[];
  inventory: PoolInventory;
  /** The earliest time a piece of evidence ages out (null: nothing ages). */
  expiresAt: number | null;
  empty: boolean;
  /** The newest piece of evidence behind the assessment. */
  lastEvidenceAt: number;
}

export function lowThreshold(installed: number, config: CoreConfig): number {
  return Math.max(config.pool.lowAvailableCount, Math.ceil(config.pool.lowAvailableRatio * installed));
}

export type DayCounts = [day: number, count: number][];

/**
 * Counts per UTC day keep the rate state small whatever the fleet size; windows are
 * evaluated at day granularity, which is plenty for a pool that lasts weeks.
 */
export function addToDay(counts: DayCounts, at: number): void {
  const day = Math.floor(at / DAY_MS);
  let i = counts.length;
  while (i > 0 && counts[i - 1]![0] > day) i--;
  const existing = counts[i - 1];
  if (existing !== undefined && existing[0] === day) existing[1] += 1;
  else counts.splice(i, 0, [day, 1]);
}

/** Drops days that ended before `horizon`. */
export function pruneDays(counts: DayCounts, horizon: number): void {
  let drop = 0;
  while (drop < counts.length && (counts[drop]![0] + 1) * DAY_MS <= horizon) drop++;
  if (drop > 0) counts.splice(0, drop);
}

const always = () => true;

/** Days overlapping (from, to] that pass the filter; with their total. */
function inWindow(counts: DayCounts, from: number, to: number, keep: (dayEnd: number) => boolean = always) {
  const days = counts.filter(([day]) => (day + 1) * DAY_MS > from && day * DAY_MS <= to && keep((day + 1) * DAY_MS));
  return { days, total: days.reduce((sum, [, n]) => sum + n, 0) };
}

/**
 * Is the product's permanent pool exhausted or about to be? Evidence: the inventory
 * (available at or under the low mark, or zero), the issuance rate projected over the
 * horizon, temporaries issued while empty, and events 20/21/22 not yet contradicted by a
 * newer inventory.
 */
export function assessPool(product: ProductState, inventory: PoolInventory, clock: number, config: CoreConfig): PoolAssessment {
  const ttl = daysToMs(config.pool.eventTtlDays);
  const reasons: string[] = [];
  const expiries: number[] = [];
  const evidenceTimes: number[] = [];
  const low = inventory.known ? lowThreshold(inventory.installed, config) : 0;

  const empty = inventory.known && inventory.installed > 0 && inventory.available === 0;
  let exhausted = false;
  if (inventory.known && inventory.installed > 0) {
    if (empty) {
      reasons.push(`0 of ${inventory.installed} available`);
      evidenceTimes.push(inventory.at);
      exhausted = true;
    } else if (inventory.available <= low) {
      reasons.push(`${inventory.available} of ${inventory.installed} available`);
      evidenceTimes.push(inventory.at);
    }
  }
  if (isActive(product.exhausted, inventory, low, clock, ttl)) {
    reasons.push(`event 21 (no permanent CALs left) on ${toDay(product.exhausted!.at)}`);
    expiries.push(product.exhausted!.at + ttl);
    evidenceTimes.push(product.exhausted!.at);
    exhausted = true;
  }
  if (isActive(product.noneInstalled, inventory, low, clock, ttl) && !(inventory.known && inventory.installed > 0 && inventory.at > product.noneInstalled!.at)) {
    reasons.push(`event 22 (no CALs installed for this product) on ${toDay(product.noneInstalled!.at)}`);
    expiries.push(product.noneInstalled!.at + ttl);
    evidenceTimes.push(product.noneInstalled!.at);
    exhausted = true;
  }
  if (isActive(product.low, inventory, low, clock, ttl)) {
    const remaining = product.low!.remaining;
    reasons.push(`event 20 (few CALs left${remaining === null ? '' : `: ${remaining}`}) on ${toDay(product.low!.at)}`);
    expiries.push(product.low!.at + ttl);
    evidenceTimes.push(product.low!.at);
  }

  const rateWindow = daysToMs(config.pool.rateWindowDays);
  const issues = inWindow(product.permanentIssues, clock - rateWindow, clock);
  if (inventory.known && !empty && issues.total > 0) {
    const perDay = issues.total / config.pool.rateWindowDays;
    const daysLeft = inventory.available / perDay;
    if (daysLeft <= config.pool.horizonDays) {
      reasons.push(`about ${Math.max(0, Math.floor(daysLeft))} days left at ${round1(perDay)} new CALs per day`);
      expiries.push((issues.days[0]![0] + 1) * DAY_MS + rateWindow);
      evidenceTimes.push(Math.min(clock, (issues.days.at(-1)![0] + 1) * DAY_MS));
    }
  }

  const tempWindow = daysToMs(config.pool.temporaryWindowDays);
  // Temporaries issued before a newer inventory with room no longer say the pool is empty.
  const temps = inWindow(product.temporariesWhileEmpty, clock - tempWindow, clock, (dayEnd) => !isContradicted(dayEnd - 1, inventory, low));
  if (temps.total > 0) {
    reasons.push(`${plural(temps.total, 'temporary CAL')} issued while the pool was empty`);
    expiries.push((temps.days[0]![0] + 1) * DAY_MS + tempWindow);
    evidenceTimes.push(Math.min(clock, (temps.days.at(-1)![0] + 1) * DAY_MS));
  }

  const open = reasons.length > 0;
  const severity: Severity = exhausted ? (temps.total > 0 ? 'critical' : 'high') : temps.total > 0 ? 'high' : 'medium';
  const future = expiries.filter((e) => e > clock);
  return {
    open,
    severity,
    reasons,
    inventory,
    expiresAt: future.length > 0 ? Math.min(...future) : null,
    empty: empty || isActive(product.exhausted, inventory, low, clock, ttl),
    lastEvidenceAt: evidenceTimes.length > 0 ? Math.max(...evidenceTimes) : clock,
  };
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
