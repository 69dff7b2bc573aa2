import { describe, expect, it } from 'vitest';
import type { Finding } from '@calwatch/model';
import type { GroundTruth, TruthScenario } from '@calwatch/simulator';
import { pointsAt, renderScores, scoreDetection } from './score';

const scenario = (over: Partial<TruthScenario>): TruthScenario => ({
  id: 'x',
  kind: 'cloned-image',
  findingKind: 'cloned-image',
  benign: false,
  licenseServer: 'LS01',
  hwids: [],
  computers: [],
  machines: 1,
  licenseIds: [],
  liveLicenseIds: [],
  leakedLicenseIds: [],
  leakedCals: 0,
  leakedPermanentCals: 0,
  firstEvidenceAt: null,
  details: {},
  ...over,
});

const finding = (over: Partial<Finding>): Finding =>
  ({ kind: 'cloned-image', licenseServer: 'LS01', hwids: [], computers: [], state: 'open', ...over }) as Finding;

const truth = (scenarios: TruthScenario[]): GroundTruth => ({ scenarios }) as unknown as GroundTruth;

describe('scoreDetection', () => {
  it('counts a finding that names a device of a cause of its kind', () => {
    const clone = scenario({ hwids: ['aa'], computers: ['WS-1', 'WS-2'] });
    expect(pointsAt(finding({ hwids: ['AA'] }), clone)).toBe(true);
    expect(pointsAt(finding({ computers: ['ws-2'] }), clone)).toBe(true);
    expect(pointsAt(finding({ computers: ['WS-3'] }), clone)).toBe(false);
    expect(pointsAt(finding({ computers: ['WS-1'], licenseServer: 'LS02' }), clone)).toBe(false);
    expect(pointsAt(finding({ kind: 'pool-exhaustion' }), scenario({ kind: 'pool-exhaustion', findingKind: 'pool-exhaustion' }))).toBe(true);
  });

  it('gives precision and recall per kind', () => {
    const scores = scoreDetection(
      [
        finding({ hwids: ['aa'] }),
        finding({ hwids: ['zz'] }),
        finding({ kind: 'hwid-churn', computers: ['VDI-1'], state: 'resolved' }),
      ],
      truth([
        scenario({ hwids: ['aa'] }),
        scenario({ hwids: ['bb'] }),
        scenario({ kind: 'vdi-churn', findingKind: 'hwid-churn', computers: ['VDI-1'] }),
        scenario({ kind: 'rebuild', findingKind: 'rebuilt-device', computers: ['WS-9'] }),
      ]),
    );
    const byKind = Object.fromEntries(scores.map((s) => [s.kind, s]));
    expect(byKind['cloned-image']).toMatchObject({ expected: 2, found: 2, truePositives: 1, detected: 1, precision: 0.5, recall: 0.5 });
    expect(byKind['hwid-churn']).toMatchObject({ precision: 1, recall: 1 });
    expect(byKind['rebuilt-device']).toMatchObject({ expected: 1, found: 0, precision: null, recall: 0 });
    const lines = renderScores(scores);
    expect(lines.some((l) => /cloned-image +2 +2 +50% +50%/.test(l))).toBe(true);
    expect(lines.some((l) => /rebuilt-device +1 +0 +n\/a +0%/.test(l))).toBe(true);
    // Kinds neither simulated nor found are left out.
    expect(lines.some((l) => l.includes('duplicate-name'))).toBe(false);
  });
});
