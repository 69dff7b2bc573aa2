import { describe, expect, it } from 'vitest';
import { PUBLISHED_LIST_MAX } from '@calwatch/model';
import { evaluateFinding } from './finding-rule';
import { finding, ruleSettings } from './test-fixtures';

describe('evaluateFinding', () => {
  it('reports the finding counts, not the length of its bounded lists, and the next revoke batch', () => {
    const computers = Array.from({ length: PUBLISHED_LIST_MAX }, (_, i) => `VDI-${String(i).padStart(4, '0')}`);
    const condition = evaluateFinding(
      finding({
        computerCount: 2_000,
        computers,
        licenseCount: 5_000,
        leakedCals: 4_998,
        revokePlan: [
          { notBefore: '2024-06-12T09:00:00.000Z', count: 400, product: 'Windows Server 2019', licenseIds: [1, 2] },
          { notBefore: '2024-08-01T00:00:00.000Z', count: 400, product: 'Windows Server 2019', licenseIds: [] },
        ],
      }),
      ruleSettings(),
    );
    expect(condition.details.metrics).toMatchObject({
      devices: 2_000,
      licenses: 5_000,
      reclaimableCals: 4_998,
      nextRevokeCals: 400,
      nextRevokeAt: '2024-06-12T09:00:00.000Z',
      revokeBatches: 2,
    });
    expect(condition.details.topOffenders.length).toBeLessThanOrEqual(PUBLISHED_LIST_MAX);
  });
});
