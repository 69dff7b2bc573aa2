import { describe, expect, it } from 'vitest';
import { type CanonicalEvent, type Finding, type LicenseLifecycleEvent, type Revocation, buildComputer, isLicenseLifecycleEvent } from '@calwatch/model';
import { parseCoreConfig } from './config';
import { computerKey } from './messages';
import { type SingleUseKeys, createPipeline } from './pipeline';
import * as scenarios from '../testing/scenarios';
import { byEventTime, createTimelineKit } from '../testing/timeline-kit';

/** The keys one event alone names, counted the plain way. */
function countSingleUse(events: readonly CanonicalEvent[]): SingleUseKeys {
  const hwids = new Map<string, number>();
  const computers = new Map<string, number>();
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const event of events) {
    if (isLicenseLifecycleEvent(event)) {
      count(hwids, event.license.hwid.norm);
      count(computers, computerKey(event.licenseServer, event.license.computer.norm));
    } else if (event.type === 'client.store') count(computers, computerKey(event.licenseServer, event.computer.norm));
  }
  return { hwid: (key) => hwids.get(key) === 1, computer: (key) => computers.get(key) === 1 };
}

function run(events: readonly CanonicalEvent[], asOf: string, singleUse?: SingleUseKeys) {
  const updates: Finding[] = [];
  const revocations: Revocation[] = [];
  const pipeline = createPipeline(
    parseCoreConfig({}),
    { onFinding: (f) => updates.push(f), onRevocation: (r) => revocations.push(r) },
    undefined,
    singleUse === undefined ? {} : { singleUse },
  );
  for (const event of byEventTime(events)) expect(pipeline.apply(event).status).toBe('accepted');
  pipeline.advanceTo(asOf);
  pipeline.flush();
  return { pipeline, updates, revocations, findings: pipeline.findings() };
}

describe('states of keys one event alone names (singleUse)', () => {
  // Every scenario on its own server, a fleet of devices that connect once, and a name whose
  // only event is of a HWID that later moves to another name: that HWID's next event tells
  // the name it left, so the name's state must stay although no later event names it.
  const kit = createTimelineKit({ server: 'LS-ONCE' });
  const events: CanonicalEvent[] = [kit.keyPack({ day: 0, keyPackId: 1, total: 400, available: 100 })];
  for (let i = 0; i < 200; i++) events.push(kit.issue(9000 + i, { hwid: `f${(0x1000 + i).toString(16)}`, computer: `PC-ONCE-${i}`, day: i / 20 }));
  events.push(kit.issue(9500, { hwid: 'fa01', computer: 'PC-OLD', day: 1 }));
  const renamed = kit.renew(9500, 30) as LicenseLifecycleEvent;
  events.push({ ...renamed, license: { ...renamed.license, computer: buildComputer('PC-NEW') } });
  events.push(kit.issue(9501, { hwid: 'fa02', computer: 'PC-OLD', day: 40 }));
  for (const scenario of Object.values(scenarios)) events.push(...scenario().events);
  const asOf = kit.at(400);

  const full = run(events, asOf);
  const single = run(events, asOf, countSingleUse(events));

  it('finds the same findings, updates and revocations as a run that keeps every state', () => {
    expect(full.findings.length).toBeGreaterThan(5);
    expect(single.findings).toEqual(full.findings);
    expect(single.updates).toEqual(full.updates);
    expect(single.revocations).toEqual(full.revocations);
  });

  it('keeps no state of a device that connected once', () => {
    const kept = single.pipeline.stats().keys;
    const all = full.pipeline.stats().keys;
    expect(all.byHwid - kept.byHwid).toBeGreaterThanOrEqual(200);
    expect(all.byComputer - kept.byComputer).toBeGreaterThanOrEqual(200);
    expect(single.pipeline.stateOf('by-hwid', 'F1000')).toBeUndefined();
  });

  it('keeps a name whose HWID has events to come, and ends with it as the full run does', () => {
    const oldName = computerKey('LS-ONCE', 'PC-OLD');
    const newName = computerKey('LS-ONCE', 'PC-NEW');
    expect(single.pipeline.stateOf('by-computer', oldName)).toEqual(full.pipeline.stateOf('by-computer', oldName));
    expect(single.pipeline.stateOf('by-computer', newName)).toEqual(full.pipeline.stateOf('by-computer', newName));
    expect(full.pipeline.stateOf('by-computer', oldName)).toBeDefined();
  });
});
