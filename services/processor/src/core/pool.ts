import { z } from 'zod';
import { DAY_MS } from './time';

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
  /**
   * The first UTC day a permanent issuance of the product was seen: a leak-rate spike needs
   * a fully observed baseline. Added later: absent in older state, set by the next issuance.
   */
  issuesSinceDay: z.number().int().optional(),
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
