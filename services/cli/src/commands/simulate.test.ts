import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GroundTruth } from '@calwatch/simulator';
import { command } from './simulate';
import { createTestIo } from '../testing/captured-output';

const root = await mkdtemp(join(tmpdir(), 'calwatch-cli-sim-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('calwatch simulate', () => {
  it('writes the requested formats and truth.json, and prints a summary', async () => {
    const { io, out } = createTestIo({ cwd: root });
    const code = await command.run(
      ['--out', 'fleet', '--devices', '80', '--days', '14', '--seed', '4', '--mix', 'cloned=1x3,vdi=2,corrupted=1', '--pool', '60', '--formats', 'ps51-csv,evtx-xml'],
      io,
    );
    expect(code).toBe(0);
    const dir = join(root, 'fleet');
    expect((await readdir(dir)).sort()).toEqual(['client-stores', 'evtx-xml', 'ps51-csv', 'truth.json']);
    const truth = GroundTruth.parse(JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8')));
    expect(truth.settings).toMatchObject({ devices: 80, days: 14, pool: 60, mix: 'cloned=1x3,vdi=2,corrupted=1' });
    expect(truth.seed).toBe(4);
    expect((await readdir(join(dir, 'ps51-csv'))).filter((f) => f.startsWith('issued-licenses_'))).toHaveLength(14);
    expect(out()).toMatch(/^14 snapshots, \d+ licensing events/);
    expect(out()).toMatch(/cloned-image\s+1 scenario\(s\), \d+ CALs leaked/);
  });

  it('reports every bad option at once with exit code 2', async () => {
    const { io, err } = createTestIo({ cwd: root });
    const code = await command.run(['--devices', 'many', '--snapshot-interval', '1y', '--formats', 'csv'], io);
    expect(code).toBe(2);
    expect(err()).toMatch(/--out is required/);
    expect(err()).toMatch(/--devices: expected a whole number/);
    expect(err()).toMatch(/--snapshot-interval/);
    expect(err()).toMatch(/unknown format 'csv'/);
  });

  it('reports an unreadable mix and a mix larger than the fleet by code', async () => {
    const bad = createTestIo({ cwd: root });
    expect(await command.run(['--out', 'x', '--mix', 'clones=2'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/SIMULATOR_MIX_INVALID/);
    const big = createTestIo({ cwd: root });
    expect(await command.run(['--out', 'y', '--devices', '5', '--mix', 'vdi=6'], big.io)).toBe(2);
    expect(big.err()).toMatch(/SIMULATOR_FLEET_TOO_SMALL/);
  });
});
