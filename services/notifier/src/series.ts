import { z } from 'zod';

/**
 * Per license server and product: what the revocation-limit rule remembers. Plain data,
 * persisted as JSON. Series written by older notifiers also held per-interval CAL counts
 * for a spike rule of their own (spikes are the processor's findings now) and pool
 * memory: those fields are dropped when such a series is read.
 */
export const SeriesState = z.object({
  licenseServer: z.string(),
  product: z.string(),
  revocation: z
    .object({
      since: z.number(),
      until: z.number(),
      revokedCount: z.number().int().nullable(),
      installedCount: z.number().int().nullable(),
      nextRevokeAllowedAt: z.string().nullable(),
      computers: z.array(z.string()),
      lastAt: z.number(),
    })
    .nullable(),
});
export type SeriesState = z.infer<typeof SeriesState>;

export function createSeries(licenseServer: string, product: string): SeriesState {
  return { licenseServer, product, revocation: null };
}

/** True when nothing in the series is worth keeping (no open condition). */
export function isSeriesEmpty(series: SeriesState): boolean {
  return series.revocation === null;
}
