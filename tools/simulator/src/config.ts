import { z } from 'zod';
import { formatConfigIssues } from '@calwatch/runtime';
import { IsoInstant } from '@calwatch/model';
import { SIMULATOR_ERRORS } from './errors';

const count = z.number().int().min(0);
const positive = z.number().int().min(1);

/**
 * How many machines of each leak cause the fleet holds; the rest are healthy. Optional
 * per-kind parameters left out are drawn per machine from the seed.
 */
export const FleetMix = z.object({
  /** Groups of machines cloned from one image that kept its HWID. */
  cloned: z.object({ groups: count, size: z.number().int().min(2) }).default({ groups: 0, size: 2 }),
  /** Non-persistent VDI machines: a new HWID at every boot (each working day). */
  vdi: z.object({ count }).default({ count: 0 }),
  /** Machines whose script deletes MSLicensing every `everyDays` days (default 3–14, per machine). */
  deleter: z.object({ count, everyDays: positive.optional() }).default({ count: 0 }),
  /** Machines rebuilt once during the window: a new HWID, the old CAL orphaned. */
  rebuild: z.object({ count }).default({ count: 0 }),
  /** Groups of live machines sharing one name, each with its own HWID (benign). */
  duplicate: z.object({ groups: count, size: z.number().int().min(2) }).default({ groups: 0, size: 2 }),
  /** Clients whose store holds several HWIDs (`hwids`, default 2–4 per client). */
  corrupted: z.object({ count, hwids: z.number().int().min(2).optional() }).default({ count: 0 }),
});
export type FleetMix = z.infer<typeof FleetMix>;

export const DEFAULT_MIX_TEXT = 'cloned=3x8,vdi=20,deleter=5,rebuild=10,duplicate=2x2,corrupted=2';

export const FleetConfig = z.object({
  seed: z.number().int().min(0).max(0xffffffff).default(42),
  /** Machines in the fleet, leak scenarios included. */
  devices: z.number().int().min(1).max(5_000_000),
  days: z.number().int().min(1).max(3650),
  /** Start of the window; day boundaries and working days are UTC. */
  start: IsoInstant.default('2024-01-01T00:00:00.000Z'),
  mix: FleetMix.default(() => parseMix(DEFAULT_MIX_TEXT)),
  /** Permanent per-device CALs installed; default 120 % of the machines. */
  pool: z.number().int().min(0).optional(),
  snapshotIntervalMs: z.number().int().min(60_000).default(86_400_000),
  licenseServer: z.string().regex(/^[A-Za-z0-9-]{1,15}$/, 'a NetBIOS-style host name').default('LS01'),
  domain: z.string().min(1).default('corp.example'),
  sessionHosts: z.number().int().min(1).max(99).default(2),
  /** First connection gets a temporary CAL, upgraded on a later one (the documented default). */
  temporaryFirst: z.boolean().default(true),
  /** An administrator revokes surplus CALs the working day after the pool ran dry. */
  revokeWhenExhausted: z.boolean().default(true),
});
export type FleetConfigInput = z.input<typeof FleetConfig>;
export type FleetConfig = z.infer<typeof FleetConfig> & { pool: number };

/** Validates settings once; every problem is listed in one SIMULATOR_CONFIG_INVALID. */
export function buildFleetConfig(input: FleetConfigInput): Readonly<FleetConfig> {
  const result = FleetConfig.safeParse(input);
  if (!result.success) {
    throw SIMULATOR_ERRORS.create('SIMULATOR_CONFIG_INVALID', `invalid simulation settings:\n${formatConfigIssues(result.error.issues)}`, {
      context: { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  const config = result.data;
  const scenarioMachines = mixMachineCount(config.mix);
  if (scenarioMachines > config.devices) {
    throw SIMULATOR_ERRORS.create(
      'SIMULATOR_FLEET_TOO_SMALL',
      `the mix needs ${scenarioMachines} machines but the fleet has ${config.devices}`,
      { context: { scenarioMachines, devices: config.devices } },
    );
  }
  return Object.freeze({ ...config, pool: config.pool ?? Math.ceil(config.devices * 1.2) });
}

export function mixMachineCount(mix: FleetMix): number {
  return (
    mix.cloned.groups * mix.cloned.size +
    mix.vdi.count +
    mix.deleter.count +
    mix.rebuild.count +
    mix.duplicate.groups * mix.duplicate.size +
    mix.corrupted.count
  );
}

const MIX_ITEM = /^([a-z]+)=(\d+)(?:([x/])(\d+))?$/;

/**
 * Reads the `--mix` text: comma-separated `kind=N`, `kind=GROUPSxSIZE` (cloned, duplicate)
 * or `kind=N/K` (deleter: every K days; corrupted: K HWIDs). `none` or '' means all healthy.
 */
export function parseMix(text: string): FleetMix {
  const mix = FleetMix.parse({});
  const problems: string[] = [];
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return mix;
  const seen = new Set<string>();
  for (const raw of trimmed.split(',')) {
    const item = raw.trim();
    const match = MIX_ITEM.exec(item);
    if (match === null) {
      problems.push(`'${item}': expected kind=N, kind=GROUPSxSIZE or kind=N/K`);
      continue;
    }
    const [, kind = '', first = '0', sep, second] = match;
    const n = Number(first);
    const k = second === undefined ? undefined : Number(second);
    if (seen.has(kind)) problems.push(`'${kind}' given twice`);
    seen.add(kind);
    const wrongSeparator = (allowed: string | undefined): boolean => {
      if (sep !== undefined && sep !== allowed) {
        problems.push(`'${item}': ${kind} takes ${allowed === 'x' ? 'GROUPSxSIZE' : allowed === '/' ? 'N/K' : 'N only'}`);
        return true;
      }
      return false;
    };
    switch (kind) {
      case 'cloned':
      case 'duplicate': {
        if (wrongSeparator('x')) break;
        const size = k ?? 2;
        if (size < 2) problems.push(`'${item}': a group needs at least 2 machines`);
        mix[kind] = { groups: n, size };
        break;
      }
      case 'vdi':
      case 'rebuild':
        if (wrongSeparator(undefined)) break;
        mix[kind] = { count: n };
        break;
      case 'deleter':
        if (wrongSeparator('/')) break;
        if (k !== undefined && k < 1) problems.push(`'${item}': deletion period must be at least 1 day`);
        mix.deleter = k === undefined ? { count: n } : { count: n, everyDays: k };
        break;
      case 'corrupted':
        if (wrongSeparator('/')) break;
        if (k !== undefined && k < 2) problems.push(`'${item}': a corrupted store holds at least 2 HWIDs`);
        mix.corrupted = k === undefined ? { count: n } : { count: n, hwids: k };
        break;
      default:
        problems.push(`'${kind}': unknown kind (cloned, vdi, deleter, rebuild, duplicate, corrupted)`);
    }
  }
  if (problems.length > 0) {
    throw SIMULATOR_ERRORS.create('SIMULATOR_MIX_INVALID', `invalid mix '${text}':\n  ${problems.join('\n  ')}`, {
      context: { mix: text, problems },
    });
  }
  return mix;
}

const DURATION = /^(\d+)(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `30m`, `6h`, `1d`, `1w` to milliseconds; undefined when unreadable. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = match[2] as keyof typeof UNIT_MS;
  return value > 0 ? value * UNIT_MS[unit] : undefined;
}

/** The canonical `--mix` text of a mix (what truth.json records). */
export function formatMix(mix: FleetMix): string {
  const parts: string[] = [];
  if (mix.cloned.groups > 0) parts.push(`cloned=${mix.cloned.groups}x${mix.cloned.size}`);
  if (mix.vdi.count > 0) parts.push(`vdi=${mix.vdi.count}`);
  if (mix.deleter.count > 0) parts.push(`deleter=${mix.deleter.count}${mix.deleter.everyDays === undefined ? '' : `/${mix.deleter.everyDays}`}`);
  if (mix.rebuild.count > 0) parts.push(`rebuild=${mix.rebuild.count}`);
  if (mix.duplicate.groups > 0) parts.push(`duplicate=${mix.duplicate.groups}x${mix.duplicate.size}`);
  if (mix.corrupted.count > 0) parts.push(`corrupted=${mix.corrupted.count}${mix.corrupted.hwids === undefined ? '' : `/${mix.corrupted.hwids}`}`);
  return parts.length === 0 ? 'none' : parts.join(',');
}
