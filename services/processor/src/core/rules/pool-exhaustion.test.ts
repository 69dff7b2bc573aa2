import { describe, expect, it } from 'vitest';
import { parseCoreConfig } from '../config';
import { type PoolInventory, emptyProduct } from '../pool';
import { type PoolExhaustionView, assessPool, derivePoolExhaustion, resolvePoolExhaustion } from './pool-exhaustion';
import { day } from '../../testing/rule-kit';

const config = parseCoreConfig({});
const unknown: PoolInventory = { known: false, installed: 0, available: 0, at: Number.NEGATIVE_INFINITY };
const inventory = (available: number): PoolInventory => ({ known: true, installed: 100, available, at: day(1) });
const view = (o: Partial<PoolExhaustionView>): PoolExhaustionView => ({
  server: 'LS01',
  product: emptyProduct('Windows Server 2022'),
  inventory: inventory(0),
  keyPackIds: [1],
  clock: day(2),
  evidence: [],
  reclaimable: () => ({ cals: 3, findings: 1 }),
  ...o,
});

describe('pool-exhaustion rule', () => {
  it('fires on an empty pool and sends the reader to the leaked CALs first', () => {
    const derived = derivePoolExhaustion(view({}), config);
    expect(derived).not.toBeNull();
    expect(derived!.severity).toBe('high');
    expect(derived!.keyPackIds).toEqual([1]);
    expect(derived!.describe().summary).toBe('Windows Server 2022 per-device CALs on LS01: 0 of 100 available');
    expect(derived!.describe().remediation).toContain('Reclaim leaked CALs first: 3 CALs reclaimable across 1 leak finding');
  });

  it('does not fire on a pool with room and no issuance', () => {
    expect(derivePoolExhaustion(view({ inventory: inventory(60) }), config)).toBeNull();
  });

  it('holds on event 21 until it ages out, then resolves', () => {
    const product = { ...emptyProduct('Windows Server 2022'), exhausted: { at: day(1), eventId: 'svc:21' } };
    expect(derivePoolExhaustion(view({ product, inventory: unknown }), config)).not.toBeNull();
    const later = view({ product, inventory: unknown, clock: day(1 + config.pool.eventTtlDays) });
    expect(derivePoolExhaustion(later, config)).toBeNull();
    expect(resolvePoolExhaustion(later).note).toBe('resolved: pool no longer low or exhausted');
  });

  it('lets a newer inventory with room contradict an older event', () => {
    const product = { ...emptyProduct('Windows Server 2022'), exhausted: { at: day(0.5), eventId: 'svc:21' } };
    const assessment = assessPool(product, inventory(60), day(2), config);
    expect(assessment.open).toBe(false);
    expect(assessment.empty).toBe(false);
  });
});
