import { describe, expect, it } from 'vitest';
import type { Finding } from '@calwatch/model';
import { waitFor } from '../../../../test/harness/wait-for';
import { CapturedOutput } from '../testing/captured-output';
import { createLiveView, describeChange, renderFindingsTable } from './findings-view';

const finding = (over: Partial<Finding>): Finding =>
  ({
    id: 'f',
    kind: 'cloned-image',
    state: 'open',
    severity: 'high',
    licenseServer: 'LS01',
    productVersion: 'Windows Server 2019',
    hwidCount: 1,
    hwids: ['0000000211112222'],
    computerCount: 3,
    computers: ['WS-1', 'WS-2', 'WS-3'],
    leakedCals: 3,
    revision: 1,
    ...over,
  }) as Finding;

describe('renderFindingsTable', () => {
  it('lists the worst first, up to a number of rows', () => {
    const lines = renderFindingsTable(
      [
        finding({ id: 'a', severity: 'low', leakedCals: 1 }),
        finding({ id: 'b', severity: 'critical', kind: 'pool-exhaustion', computers: [], hwids: [], leakedCals: 0 }),
        finding({ id: 'c', state: 'resolved' }),
        finding({ id: 'd', severity: 'high' }),
      ],
      { maxRows: 3, width: 120 },
    );
    expect(lines[0]).toBe('Findings: 3 open, 1 resolved');
    expect(lines[2]).toMatch(/critical +open +pool-exhaustion +0 +LS01: Windows Server 2019/);
    expect(lines[3]).toMatch(/high +open +cloned-image +3 +LS01: WS-1, WS-2 \+1/);
    expect(lines[4]).toMatch(/low +open/);
    expect(lines[5]).toBe('  ... 1 more');
  });
});

describe('describeChange', () => {
  it('tells new findings, state and severity changes, and nothing else', () => {
    expect(describeChange(undefined, finding({}))).toMatch(/^finding opened: high cloned-image on LS01/);
    expect(describeChange(finding({}), finding({ state: 'resolved' }))).toMatch(/^finding resolved/);
    expect(describeChange(finding({}), finding({ severity: 'critical' }))).toMatch(/^finding high -> critical/);
    expect(describeChange(finding({}), finding({ leakedCals: 4, revision: 2 }))).toBeUndefined();
  });
});

describe('createLiveView', () => {
  it('prints plain lines when not on a terminal', () => {
    const out = new CapturedOutput(false);
    const view = createLiveView(out);
    view.finding(undefined, finding({}));
    view.note('PAGE TRIGGER');
    view.status('ignored');
    view.close();
    expect(out.text).toBe(`${describeChange(undefined, finding({}))}\nPAGE TRIGGER\n`);
  });

  it('redraws the table in place on a terminal, notes above it', async () => {
    const out = new CapturedOutput(true);
    const view = createLiveView(out, { intervalMs: 5 });
    view.status('Streaming 10%');
    view.finding(undefined, finding({}));
    const firstDraw = await waitFor(() => out.text.includes('Findings: 1 open') && out.text, 2_000, 'the first redraw', { intervalMs: 5 });
    expect(firstDraw).toContain('Streaming 10%\nFindings: 1 open, 0 resolved');
    view.note('PAGE TRIGGER');
    view.close();
    // The block is erased (cursor up, clear) before the note and drawn again after it.
    expect(out.text.slice(firstDraw.length)).toMatch(/^\x1b\[\d+F\x1b\[JPAGE TRIGGER\n(\x1b\[\d+F\x1b\[J)?Streaming 10%\n/);
  });
});
