import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GroundTruth, simulateFleet, writeFleet } from '@calwatch/simulator';
import { createTestIo } from '../testing/captured-output';
import { command } from './analyze';

/**
 * End to end against the fleet simulator's ground truth: what it wrote (PowerShell 5.1
 * exports, Winlogbeat events, client stores) read back by `calwatch analyze`, and every
 * simulated cause found under the finding kind truth.json names for it.
 */
describe('calwatch analyze on a simulated fleet', () => {
  let dir: string;
  let truth: GroundTruth;
  let findings: { kind: string; hwids: string[]; computers: string[]; leakedCals: number }[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-sim-'));
    const result = await writeFleet(
      simulateFleet({ devices: 160, days: 120, seed: 11 }),
      { outDir: dir, formats: ['ps51-csv', 'winlogbeat'] },
    );
    truth = result.truth!;
    const { io, out } = createTestIo({ cwd: dir });
    const code = await command.run([join(dir, 'ps51-csv'), join(dir, 'winlogbeat'), join(dir, 'client-stores'), '--format', 'json'], io);
    expect(code).toBe(0);
    findings = (JSON.parse(out()) as { findings: typeof findings }).findings;
  }, 120_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds every simulated cause that still leaks, under the right kind, and nothing else', () => {
    const matched = new Set<(typeof findings)[number]>();
    const missed: string[] = [];
    for (const scenario of truth.scenarios) {
      const ours = findings.filter((f) =>
        scenario.kind === 'pool-exhaustion'
          ? f.kind === 'pool-exhaustion'
          : f.kind !== 'pool-exhaustion' && (f.hwids.some((h) => scenario.hwids.includes(h)) || f.computers.some((c) => scenario.computers.includes(c))),
      );
      ours.forEach((f) => matched.add(f));
      // A rebuild whose orphaned CAL already expired is over: nothing left to report.
      const over = scenario.kind === 'rebuild' && scenario.leakedPermanentCals === 0;
      if (over) continue;
      const same = ours.filter((f) => f.kind === scenario.findingKind);
      if (same.length !== 1) missed.push(`${scenario.id}: want ${scenario.findingKind}, got ${ours.map((f) => f.kind).join(',') || 'nothing'}`);
      else if (!scenario.benign && scenario.kind !== 'pool-exhaustion') expect(same[0]!.leakedCals, scenario.id).toBe(scenario.leakedPermanentCals);
    }
    expect(missed).toEqual([]);
    expect(findings.filter((f) => !matched.has(f)).map((f) => `${f.kind} ${f.computers.join(',')}`)).toEqual([]);
  });
});
