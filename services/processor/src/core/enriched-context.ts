import { type EnrichedEvent, type FindingKind, countDistinct, firstNames, newestIds } from '@calwatch/model';

export interface ChainContext {
  hwidLicenseIds: readonly number[];
  hwidComputers: readonly string[];
  computerHwids: readonly string[];
  classification: FindingKind | 'healthy';
  findingIds: readonly string[];
}

/** An enriched event's context: exact counts, bounded lists (every event carries one). */
export function buildEnrichedContext(chain: ChainContext): EnrichedEvent['context'] {
  return {
    hwidLicenseCount: countDistinct(chain.hwidLicenseIds),
    hwidLicenseIds: newestIds(chain.hwidLicenseIds),
    hwidComputerCount: countDistinct(chain.hwidComputers),
    hwidComputers: firstNames(chain.hwidComputers),
    computerHwidCount: countDistinct(chain.computerHwids),
    computerHwids: firstNames(chain.computerHwids),
    classification: chain.classification,
    findingIds: [...chain.findingIds],
  };
}
