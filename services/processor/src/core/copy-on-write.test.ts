import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@calwatch/model';
import { createByComputerStage } from './by-computer';
import { createByHwidStage } from './by-hwid';
import { createByServerStage } from './by-server';
import { parseCoreConfig } from './config';
import { computerKey, type StageOutput } from './messages';
import * as scenarios from '../testing/scenarios';

const config = parseCoreConfig({});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * Drives the stages by hand and, with `freeze`, deep-freezes every by-hwid and by-computer
 * state before it goes back in: a stage that changed its input would throw (modules are
 * strict), so a throw anywhere in a stage leaves the state it was given as it was.
 */
function drive(events: readonly CanonicalEvent[], ticksAt: readonly number[], freeze: boolean): StageOutput[] {
  const byHwid = createByHwidStage(config);
  const byComputer = createByComputerStage(config);
  const byServer = createByServerStage(config);
  const hwids = new Map<string, Parameters<typeof byHwid.process>[2]>();
  const computers = new Map<string, Parameters<typeof byComputer.process>[2]>();
  const servers = new Map<string, Parameters<typeof byServer.process>[2]>();
  const keep = <S>(map: Map<string, S>, key: string, state: S | undefined) => {
    if (state === undefined) map.delete(key);
    else map.set(key, freeze ? deepFreeze(state) : state);
  };
  const sunk: StageOutput[] = [];
  const queue: StageOutput[] = [];
  const drain = () => {
    while (queue.length > 0) {
      const out = queue.shift()!;
      if (out.topic === 'by-computer') {
        const r = byComputer.process(out.key, out.message, computers.get(out.key));
        keep(computers, out.key, r.state);
        queue.push(...r.outputs);
      } else if (out.topic === 'by-server') {
        const r = byServer.process(out.key, out.message, servers.get(out.key));
        servers.set(out.key, r.state!);
        queue.push(...r.outputs);
      } else {
        sunk.push(out);
      }
    }
  };
  for (const event of events) {
    if (event.type.startsWith('license.')) {
      const key = (event as Extract<CanonicalEvent, { license: unknown }>).license.hwid.norm;
      const r = byHwid.process(key, event as never, hwids.get(key));
      keep(hwids, key, r.state);
      queue.push(...r.outputs);
    } else if (event.type === 'client.store') {
      queue.push({ topic: 'by-computer', key: computerKey(event.licenseServer, event.computer.norm), message: event });
    } else {
      queue.push({ topic: 'by-server', key: event.licenseServer, message: event as never });
    }
    drain();
  }
  for (const at of ticksAt) {
    for (const key of [...hwids.keys()]) {
      const r = byHwid.process(key, { type: 'tick', at }, hwids.get(key));
      keep(hwids, key, r.state);
      queue.push(...r.outputs);
    }
    for (const key of [...computers.keys()]) {
      const r = byComputer.process(key, { type: 'tick', at }, computers.get(key));
      keep(computers, key, r.state);
      queue.push(...r.outputs);
    }
    drain();
  }
  return sunk;
}

describe('stages copy on write', () => {
  it('by-hwid and by-computer return new state and never change the state they were given', () => {
    const all = [
      scenarios.clonedImage(),
      scenarios.vdiChurn(),
      scenarios.rebuiltDevice(),
      scenarios.duplicateName(),
      scenarios.corruptedStore(),
      scenarios.healthyFleet(),
    ];
    const events = all
      .flatMap((s) => s.events)
      .sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));
    const last = Math.max(...events.map((e) => Date.parse(e.eventTime)));
    const ticksAt = [1, 5, 30, 120].map((days) => last + days * 86_400_000);
    const frozen = drive(events, ticksAt, true);
    expect(frozen).toEqual(drive(events, ticksAt, false));
    expect(frozen.filter((o) => o.topic === 'findings').length).toBeGreaterThan(5);
  });
});
