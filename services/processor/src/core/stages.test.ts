import { describe, expect, it } from 'vitest';
import type { CanonicalEvent, EnrichedEvent, Finding } from '@calwatch/model';
import { createByComputerStage, decodeByComputerState } from './by-computer';
import { createByHwidStage, decodeByHwidState } from './by-hwid';
import { createByServerStage, decodeByServerState } from './by-server';
import { parseCoreConfig } from './config';
import { computerKey, type StageOutput } from './messages';
import { createPipeline } from './pipeline';
import type { Decoded } from './state-codec';
import * as scenarios from '../testing/scenarios';
import { createTimelineKit } from '../testing/timeline-kit';

const config = parseCoreConfig({});

/**
 * Drives the three stages by hand, as the streaming runtime would, optionally writing
 * every state to JSON and reading it back (a changelog round trip) after each message.
 */
function drive(events: CanonicalEvent[], roundTrip: boolean): StageOutput[] {
  const byHwid = createByHwidStage(config);
  const byComputer = createByComputerStage(config);
  const byServer = createByServerStage(config);
  const states = { hwid: new Map<string, unknown>(), computer: new Map<string, unknown>(), server: new Map<string, unknown>() };
  const sunk: StageOutput[] = [];
  const keep = <S>(map: Map<string, unknown>, key: string, state: S | undefined, decode: (json: unknown) => Decoded<S>) => {
    if (state === undefined) return void map.delete(key);
    if (!roundTrip) return void map.set(key, state);
    const decoded = decode(JSON.parse(JSON.stringify(state)));
    if (!decoded.ok) throw decoded.error;
    map.set(key, decoded.state);
  };
  const queue: StageOutput[] = [];
  for (const event of events) {
    if (event.type.startsWith('license.')) {
      const key = (event as Extract<CanonicalEvent, { license: unknown }>).license.hwid.norm;
      const r = byHwid.process(key, event as never, states.hwid.get(key) as never);
      keep(states.hwid, key, r.state, decodeByHwidState);
      queue.push(...r.outputs);
    } else if (event.type === 'client.store') {
      queue.push({ topic: 'by-computer', key: computerKey(event.licenseServer, event.computer.norm), message: event });
    } else {
      queue.push({ topic: 'by-server', key: event.licenseServer, message: event as never });
    }
    while (queue.length > 0) {
      const out = queue.shift()!;
      if (out.topic === 'by-computer') {
        const r = byComputer.process(out.key, out.message, states.computer.get(out.key) as never);
        keep(states.computer, out.key, r.state, decodeByComputerState);
        queue.push(...r.outputs);
      } else if (out.topic === 'by-server') {
        const r = byServer.process(out.key, out.message, states.server.get(out.key) as never);
        keep(states.server, out.key, r.state, decodeByServerState);
        queue.push(...r.outputs);
      } else {
        sunk.push(out);
      }
    }
  }
  return sunk;
}

const sorted = (events: CanonicalEvent[]) =>
  [...events].sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));

describe('stage state round trip', () => {
  it('every stage continues identically from its JSON state after every message', () => {
    const events = sorted([
      ...scenarios.clonedImage().events,
      ...scenarios.vdiChurn().events,
      ...scenarios.duplicateName().events,
      ...scenarios.exhaustedPool().events,
      ...scenarios.cappedRevocations().events,
      ...scenarios.corruptedStore().events,
    ]);
    const direct = drive(events, false);
    const viaJson = drive(events, true);
    expect(viaJson).toEqual(direct);
    expect(direct.filter((o) => o.topic === 'findings').length).toBeGreaterThan(10);
  });

  it('rejects a state that fails its schema with a coded error', () => {
    const decoded = decodeByServerState({ v: 1, server: 'LS01' });
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.error.code).toBe('PROCESSOR_STATE_INVALID');
  });
});

describe('rebuild that turns out to be two live devices', () => {
  it('withdraws the rebuilt-device finding when the old HWID renews, and opens duplicate-name', () => {
    const kit = createTimelineKit({ server: 'LS-X' });
    const events = [
      kit.issue(40, { hwid: '0a40', computer: 'PC-X', day: 0 }),
      kit.issue(41, { hwid: '0a41', computer: 'PC-X', day: 10 }),
    ];
    events.push(kit.renew(40, 55));
    const updates: Finding[] = [];
    const pipeline = createPipeline(config, { onFinding: (f) => updates.push(f) });
    for (const event of events) pipeline.apply(event);
    pipeline.advanceTo(kit.at(56));
    expect(updates.map((u) => [u.kind, u.state, u.updatedAt, u.leakedCals])).toEqual([
      ['rebuilt-device', 'open', kit.at(13), 1],
      ['rebuilt-device', 'resolved', kit.at(55), 0],
      ['duplicate-name', 'open', kit.at(55), 0],
    ]);
    expect(updates[1]!.summary).toContain('not a rebuild');
  });
});

describe('renamed device', () => {
  it('moves the license to the new name and leaves no finding', () => {
    const kit = createTimelineKit({ server: 'LS-REN' });
    const issued = kit.issue(50, { hwid: '0b50', computer: 'PC-OLDNAME', day: 0 });
    const renewed = kit.renew(50, 55);
    const renamed = { ...renewed, license: { ...(renewed as Extract<CanonicalEvent, { license: unknown }>).license, computer: { raw: 'PC-NEWNAME', norm: 'PC-NEWNAME' } } } as CanonicalEvent;
    const pipeline = createPipeline(config);
    for (const event of [issued, renamed]) pipeline.apply(event);
    pipeline.advanceTo(kit.at(60));
    expect(pipeline.findings()).toEqual([]);
    expect(Object.keys(pipeline.snapshot().byComputer)).toEqual(['LS-REN|PC-NEWNAME']);
  });
});

describe('a name holding many CALs', () => {
  it('forgets a CAL past retention that a step added after the name had been measured', () => {
    // Eight long CALs: the name's list is long enough for by-computer to keep bounds instead
    // of reading it on every step. The ninth expires within days: carried over from list to
    // list, the bounds must drop to it, or the step that should forget it reads nothing.
    const kit = createTimelineKit({ server: 'LS-RET' });
    const events: CanonicalEvent[] = [];
    for (let id = 1; id <= 8; id++) events.push(kit.issue(id, { hwid: '0c01', computer: 'PC-MANY', day: id, validDays: 400 }));
    events.push(kit.issue(9, { hwid: '0c01', computer: 'PC-MANY', day: 10, validDays: 5 }));
    // Retained until its expiry (day 15) plus the retention: gone by day 140 + retention.
    const late = config.state.retentionDays + 140;
    events.push(kit.issue(10, { hwid: '0c01', computer: 'PC-MANY', day: late, validDays: 400 }));
    const pipeline = createPipeline(config);
    for (const event of events) pipeline.apply(event);
    pipeline.advanceTo(kit.at(late));
    const state = pipeline.stateOf('by-computer', computerKey('LS-RET', 'PC-MANY')) as { hwids: Array<{ licenses: Array<{ licenseId: number }> }> };
    expect(state.hwids.flatMap((h) => h.licenses.map((r) => r.licenseId))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 10]);
  });
});

describe('enriched events', () => {
  it('gives every input event its chain context and classification', () => {
    const enriched: EnrichedEvent[] = [];
    const { kit, events } = scenarios.clonedImage();
    const pipeline = createPipeline(config, { onEnriched: (e) => enriched.push(e) });
    for (const event of events) pipeline.apply(event);
    pipeline.advanceTo(kit.at(4));
    expect(enriched.map((e) => e.event.eventId)).toEqual(events.map((e) => e.eventId));
    expect(enriched.map((e) => e.context.classification)).toEqual(['healthy', 'healthy', 'healthy', 'cloned-image', 'cloned-image']);
    const last = enriched.at(-1)!.context;
    expect(last.hwidLicenseIds).toEqual([1, 2, 3, 4]);
    expect(last.hwidComputers).toEqual(['PC-A', 'PC-B']);
    expect(last.computerHwids).toEqual(['aa01']);
    expect(last.findingIds).toEqual([pipeline.findings()[0]!.id]);
  });
});
