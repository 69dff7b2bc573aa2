import { buildComputer, buildHwid, type Computer, type Hwid } from '@calwatch/model';
import type { FleetConfig } from './config';
import { STREAM, createRandom, type Random } from './random';

export const DAY_MS = 86_400_000;

export type DeviceKind = 'healthy' | 'cloned' | 'vdi' | 'deleter' | 'rebuild' | 'duplicate' | 'corrupted';

/** The leak causes the simulator models; `pool-exhaustion` arises from the pool, not a machine. */
export type ScenarioKind =
  | 'cloned-image'
  | 'vdi-churn'
  | 'mslicensing-deleter'
  | 'rebuild'
  | 'duplicate-name'
  | 'corrupted-store'
  | 'pool-exhaustion';

/** One machine. Its HWID on a given day is a pure function of the seed (see hwidsOn). */
export interface Device {
  index: number;
  kind: DeviceKind;
  /** Index into Fleet.scenarios; -1 for healthy machines. */
  scenario: number;
  computer: Computer;
  user: string;
  /** Probability of connecting on a working day. */
  attendance: number;
  /** Probability of a second (afternoon) connection on a day it connects. */
  secondConnection: number;
  /** Window-day range [from, to) during which the machine is away; empty when from === to. */
  awayFrom: number;
  awayTo: number;
  /** HWID stream key: shared by the clones of one image. */
  hwidKey: number;
  deleteEveryDays: number;
  deletePhase: number;
  rebuildDay: number;
  hwidsPerStore: number;
  /** Cache of the current HWIDs and the generation they belong to. */
  cachedGeneration: number;
  cachedHwids: Hwid[];
}

export interface ScenarioSeed {
  index: number;
  kind: Exclude<ScenarioKind, 'pool-exhaustion'>;
  devices: number[];
}

export interface Fleet {
  devices: Device[];
  scenarios: ScenarioSeed[];
}

/** Lays out the machines: scenario members first (grouped), then the healthy ones. */
export function buildFleet(config: FleetConfig, windowDays: number): Fleet {
  const userDomain = (config.domain.split('.')[0] ?? 'CORP').toUpperCase();
  const { mix } = config;
  const plan: Array<{ kind: DeviceKind; group: number }> = [];
  const scenarios: ScenarioSeed[] = [];
  const addGroup = (kind: ScenarioSeed['kind'], deviceKind: DeviceKind, size: number): void => {
    const scenario: ScenarioSeed = { index: scenarios.length, kind, devices: [] };
    scenarios.push(scenario);
    for (let i = 0; i < size; i += 1) {
      scenario.devices.push(plan.length);
      plan.push({ kind: deviceKind, group: scenario.index });
    }
  };
  for (let g = 0; g < mix.cloned.groups; g += 1) addGroup('cloned-image', 'cloned', mix.cloned.size);
  for (let i = 0; i < mix.vdi.count; i += 1) addGroup('vdi-churn', 'vdi', 1);
  for (let i = 0; i < mix.deleter.count; i += 1) addGroup('mslicensing-deleter', 'deleter', 1);
  for (let i = 0; i < mix.rebuild.count; i += 1) addGroup('rebuild', 'rebuild', 1);
  for (let g = 0; g < mix.duplicate.groups; g += 1) addGroup('duplicate-name', 'duplicate', mix.duplicate.size);
  for (let i = 0; i < mix.corrupted.count; i += 1) addGroup('corrupted-store', 'corrupted', 1);
  while (plan.length < config.devices) plan.push({ kind: 'healthy', group: -1 });

  // Names are drawn from a shuffled range so that a name never tells the kind of machine.
  const nameSlots = plan.filter((p, i) => p.kind !== 'vdi' && !(p.kind === 'duplicate' && plan[i - 1]?.group === p.group)).length;
  const numbers = shuffledRange(nameSlots, createRandom(config.seed, STREAM.names));
  const width = Math.max(5, String(nameSlots).length);
  let nextSlot = 0;
  let vdiNumber = 0;
  const vdiWidth = Math.max(3, String(mix.vdi.count).length);

  const devices: Device[] = [];
  let sharedName: Computer | undefined;
  for (let index = 0; index < plan.length; index += 1) {
    const { kind, group } = plan[index]!;
    const own = createRandom(config.seed, STREAM.device, index);
    let computer: Computer;
    let userNumber: number;
    if (kind === 'vdi') {
      vdiNumber += 1;
      computer = buildComputer(`VDI-${String(vdiNumber).padStart(vdiWidth, '0')}`);
      userNumber = nameSlots + vdiNumber;
    } else if (kind === 'duplicate' && plan[index - 1]?.group === group && sharedName !== undefined) {
      computer = sharedName;
      userNumber = nameSlots + mix.vdi.count + index + 1;
    } else {
      const number = numbers[nextSlot]!;
      nextSlot += 1;
      computer = buildComputer(`WS-${String(number).padStart(width, '0')}`);
      userNumber = number;
      sharedName = computer;
    }
    const firstOfGroup = group >= 0 ? scenarios[group]!.devices[0]! : index;
    const away = own.chance(0.35) ? own.int(5, 16) : 0;
    const awayFrom = away > 0 ? own.int(0, Math.max(0, windowDays - 1)) : 0;
    const deleteEveryDays = kind === 'deleter' ? (mix.deleter.everyDays ?? own.int(3, 14)) : 0;
    devices.push({
      index,
      kind,
      scenario: group,
      computer,
      user: `${userDomain}\\u${String(userNumber).padStart(width, '0')}`,
      attendance: kind === 'vdi' ? 0.9 + own.next() * 0.08 : 0.8 + own.next() * 0.17,
      secondConnection: kind === 'vdi' ? 0.5 + own.next() * 0.4 : 0.2 + own.next() * 0.5,
      // VDI machines are pooled and always in use; others take time off.
      awayFrom: kind === 'vdi' ? 0 : awayFrom,
      awayTo: kind === 'vdi' ? 0 : awayFrom + away,
      hwidKey: kind === 'cloned' ? firstOfGroup : index,
      deleteEveryDays,
      deletePhase: kind === 'deleter' ? own.int(1, deleteEveryDays) : 0,
      rebuildDay:
        kind === 'rebuild' ? own.int(Math.max(1, Math.floor(windowDays * 0.15)), Math.max(1, Math.floor(windowDays * 0.5))) : -1,
      hwidsPerStore: kind === 'corrupted' ? (mix.corrupted.hwids ?? own.int(2, 4)) : 1,
      cachedGeneration: -1,
      cachedHwids: [],
    });
  }
  return { devices, scenarios };
}

/** Which HWID generation a machine presents on a window day. */
export function hwidGeneration(device: Device, day: number): number {
  switch (device.kind) {
    case 'vdi':
      return day;
    case 'deleter':
      return day >= device.deletePhase ? Math.floor((day - device.deletePhase) / device.deleteEveryDays) + 1 : 0;
    case 'rebuild':
      return day >= device.rebuildDay ? 1 : 0;
    default:
      return 0;
  }
}

/** The HWIDs a machine's store holds on a window day (several only for a corrupted store). */
export function hwidsOn(seed: number, device: Device, day: number): Hwid[] {
  const generation = hwidGeneration(device, day);
  if (generation !== device.cachedGeneration) {
    const hwids: Hwid[] = [];
    for (let i = 0; i < device.hwidsPerStore; i += 1) hwids.push(makeHwid(seed, device.hwidKey, generation + i));
    device.cachedGeneration = generation;
    device.cachedHwids = hwids;
  }
  return device.cachedHwids;
}

/**
 * A 20-byte CLIENT_HARDWARE_ID (PlatformId + Data1..Data4) rendered as five 32-bit words,
 * `0x00000002, 0x1A2B3C4D, ...`, like the project's fixtures. The real WMI rendering is
 * unverified (docs/licensing-reference.md §4); consumers normalise it anyway.
 */
export function makeHwid(seed: number, key: number, generation: number): Hwid {
  const rnd = createRandom(seed, STREAM.hwid, key, generation);
  const words = [2, rnd.uint32(), rnd.uint32(), rnd.uint32(), rnd.uint32()];
  return buildHwid(words.map((w) => `0x${w.toString(16).toUpperCase().padStart(8, '0')}`).join(', '))!;
}

function shuffledRange(n: number, rnd: Random): number[] {
  const out = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = rnd.int(0, i);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
