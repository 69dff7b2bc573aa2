import type { IndexInterval } from './config';

/**
 * The index schema calwatch installs. `generation` is part of every index name and bumps
 * on a change an existing index cannot take (a field changing type); `revision` bumps on
 * additive changes, which setup applies to existing indices in place.
 */
export const INDEX_SCHEMA = { generation: 1, revision: 4 } as const;

/** Template `version`: orders installs so setup never replaces a newer one with an older one. */
export const TEMPLATE_VERSION = INDEX_SCHEMA.generation * 1000 + INDEX_SCHEMA.revision;

export interface IndexNames {
  prefix: string;
  interval: IndexInterval;
  /** Read alias over every enriched-events index of every generation. */
  enrichedAlias: string;
  /** Pattern of the current generation's enriched indices (the template's index pattern). */
  enrichedPattern: string;
  /** Read alias of the findings; also the write alias of the current generation's index. */
  findingsAlias: string;
  /** The concrete findings index of the current generation. */
  findingsIndex: string;
  /** Read alias of the revoke table (one document per planned CAL revocation). */
  revocationsAlias: string;
  /** The concrete revocations index of the current generation. */
  revocationsIndex: string;
  templates: {
    settings: string;
    commonMappings: string;
    enrichedMappings: string;
    findingsMappings: string;
    revocationsMappings: string;
    enriched: string;
    findings: string;
    revocations: string;
  };
  /** The concrete enriched index an event with this time goes to (UTC). */
  enrichedIndexFor(eventTime: string): string;
}

/** Builds every name from the prefix once, at start-up: the hot path only formats a date. */
export function buildIndexNames(prefix: string, interval: IndexInterval = 'month'): IndexNames {
  const generation = `v${INDEX_SCHEMA.generation}`;
  const enrichedBase = `${prefix}enriched-${generation}-`;
  return {
    prefix,
    interval,
    enrichedAlias: `${prefix}enriched`,
    enrichedPattern: `${enrichedBase}*`,
    findingsAlias: `${prefix}findings`,
    findingsIndex: `${prefix}findings-${generation}`,
    revocationsAlias: `${prefix}revocations`,
    revocationsIndex: `${prefix}revocations-${generation}`,
    templates: {
      settings: `${prefix}settings`,
      commonMappings: `${prefix}common@mappings`,
      enrichedMappings: `${prefix}enriched@mappings`,
      findingsMappings: `${prefix}findings@mappings`,
      revocationsMappings: `${prefix}revocations@mappings`,
      enriched: `${prefix}enriched-${generation}`,
      findings: `${prefix}findings-${generation}`,
      revocations: `${prefix}revocations-${generation}`,
    },
    enrichedIndexFor(eventTime: string): string {
      // IsoInstant is always `YYYY-MM-DDT...Z`: slicing is exact and cheaper than a Date.
      const year = eventTime.slice(0, 4);
      const month = eventTime.slice(5, 7);
      return interval === 'month' ? `${enrichedBase}${year}.${month}` : `${enrichedBase}${year}.${month}.${eventTime.slice(8, 10)}`;
    },
  };
}
