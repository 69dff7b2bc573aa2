import { FindingKind, type Finding } from '@calwatch/model';
import { type GroundTruth, type TruthScenario } from '@calwatch/simulator';

export interface KindScore {
  kind: FindingKind;
  /** Simulated causes a detector should raise this kind for. */
  expected: number;
  /** Findings of this kind (open or resolved: a resolved one was still detected). */
  found: number;
  /** Findings that point at a cause of their kind. */
  truePositives: number;
  /** Causes at least one finding of their kind points at. */
  detected: number;
  /** truePositives / found; null without findings. */
  precision: number | null;
  /** detected / expected; null without causes. */
  recall: number | null;
}

const norm = (s: string): string => s.trim().toLowerCase();

/** A finding points at a cause when it names one of its HWIDs or computers (pool findings: its server). */
export function pointsAt(finding: Pick<Finding, 'kind' | 'licenseServer' | 'hwids' | 'computers'>, scenario: TruthScenario): boolean {
  if (norm(finding.licenseServer) !== norm(scenario.licenseServer)) return false;
  if (scenario.findingKind === 'pool-exhaustion') return finding.kind === 'pool-exhaustion';
  const hwids = new Set(scenario.hwids.map(norm));
  const computers = new Set(scenario.computers.map(norm));
  return finding.hwids.some((h) => hwids.has(norm(h))) || finding.computers.some((c) => computers.has(norm(c)));
}

/**
 * Scores detection against the simulator's ground truth, per finding kind: precision
 * (findings that point at a simulated cause of their kind) and recall (causes found).
 */
export function scoreDetection(findings: readonly Finding[], truth: GroundTruth): KindScore[] {
  return FindingKind.options.map((kind) => {
    const scenarios = truth.scenarios.filter((s) => s.findingKind === kind);
    const ofKind = findings.filter((f) => f.kind === kind);
    const truePositives = ofKind.filter((f) => scenarios.some((s) => pointsAt(f, s))).length;
    const detected = scenarios.filter((s) => ofKind.some((f) => pointsAt(f, s))).length;
    return {
      kind,
      expected: scenarios.length,
      found: ofKind.length,
      truePositives,
      detected,
      precision: ofKind.length === 0 ? null : truePositives / ofKind.length,
      recall: scenarios.length === 0 ? null : detected / scenarios.length,
    };
  });
}

const percent = (value: number | null): string => (value === null ? 'n/a' : `${Math.round(value * 100)}%`);

export function renderScores(scores: readonly KindScore[]): string[] {
  const lines = [`  ${'kind'.padEnd(18)} ${'simulated'.padStart(9)} ${'found'.padStart(6)} ${'precision'.padStart(9)} ${'recall'.padStart(7)}`];
  for (const s of scores) {
    if (s.expected === 0 && s.found === 0) continue;
    lines.push(`  ${s.kind.padEnd(18)} ${String(s.expected).padStart(9)} ${String(s.found).padStart(6)} ${percent(s.precision).padStart(9)} ${percent(s.recall).padStart(7)}`);
  }
  return lines;
}
