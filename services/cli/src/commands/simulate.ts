import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isCalwatchError } from '@calwatch/model';
import { DEFAULT_MIX_TEXT, DEFAULT_OUTPUT_FORMATS, OUTPUT_FORMATS, parseDurationMs, parseMix, simulateFleet, writeFleet, type OutputFormat, type WriteFleetResult } from '@calwatch/simulator';
import { reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch simulate --out <dir> [options]

Simulates an RD license server and a fleet of machines that leak per-device CALs, and
writes what the server would give: snapshot exports, key-pack exports, licensing events,
client store inventories, plus truth.json (what really happened, for scoring detection).
Same seed, same bytes.

options:
  --out <dir>                 output directory (created; must be empty)
  --devices <n>               machines in the fleet, leak scenarios included (default 500)
  --days <n>                  length of the window (default 120)
  --seed <n>                  0..4294967295 (default 42)
  --start <iso>               window start, UTC (default 2024-01-01T00:00:00Z)
  --mix <spec>                leak scenarios (default ${DEFAULT_MIX_TEXT}); 'none' for a
                              healthy fleet. kind=N | kind=GROUPSxSIZE (cloned, duplicate) |
                              deleter=N/EVERY_DAYS | corrupted=N/HWIDS
  --pool <n>                  permanent CALs installed (default 120 % of --devices)
  --snapshot-interval <d>     30m, 6h, 1d, 1w (default 1d)
  --formats <list>            ${OUTPUT_FORMATS.join(',')}
                              (default ${DEFAULT_OUTPUT_FORMATS.join(',')})
  --session-hosts <n>         RD Session Hosts the clients connect to (default 2)
  --license-server <name>     license server host name (default LS01)
  --no-temporary-first        issue a permanent CAL at first connection when one is free
  --no-revoke                 no administrator revocations when the pool runs dry
  --gzip                      gzip every file (.gz)
  --json                      print the summary as JSON`;

const NUMBER = /^\d+$/;

interface Parsed {
  out: string;
  formats: OutputFormat[];
  gzip: boolean;
  json: boolean;
  input: Parameters<typeof simulateFleet>[0];
}

function parse(args: string[], io: CommandIo): Parsed | string {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      devices: { type: 'string', default: '500' },
      days: { type: 'string', default: '120' },
      seed: { type: 'string', default: '42' },
      start: { type: 'string' },
      mix: { type: 'string' },
      pool: { type: 'string' },
      'snapshot-interval': { type: 'string', default: '1d' },
      formats: { type: 'string' },
      'session-hosts': { type: 'string' },
      'license-server': { type: 'string' },
      'no-temporary-first': { type: 'boolean' },
      'no-revoke': { type: 'boolean' },
      gzip: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const problems: string[] = [];
  const int = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    if (!NUMBER.test(text)) {
      problems.push(`--${name}: expected a whole number, got '${text}'`);
      return undefined;
    }
    return Number(text);
  };
  if (values.out === undefined) problems.push('--out is required');
  const snapshotIntervalMs = parseDurationMs(values['snapshot-interval']);
  if (snapshotIntervalMs === undefined) problems.push(`--snapshot-interval: expected 30m, 6h, 1d or 1w, got '${values['snapshot-interval']}'`);
  const formats = (values.formats ?? DEFAULT_OUTPUT_FORMATS.join(','))
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  for (const f of formats) if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) problems.push(`--formats: unknown format '${f}'`);
  let start = values.start;
  if (start !== undefined) {
    const ms = Date.parse(start);
    if (Number.isNaN(ms)) problems.push(`--start: not a date '${start}'`);
    else start = new Date(ms).toISOString();
  }
  const input = {
    devices: int('devices', values.devices),
    days: int('days', values.days),
    seed: int('seed', values.seed),
    pool: int('pool', values.pool),
    sessionHosts: int('session-hosts', values['session-hosts']),
    start,
    mix: values.mix === undefined ? undefined : parseMix(values.mix),
    snapshotIntervalMs,
    licenseServer: values['license-server'],
    temporaryFirst: values['no-temporary-first'] !== true,
    revokeWhenExhausted: values['no-revoke'] !== true,
  };
  if (problems.length > 0) return problems.join('\n');
  return {
    out: resolve(io.cwd, values.out!),
    formats: formats as OutputFormat[],
    gzip: values.gzip === true,
    json: values.json === true,
    input: Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Parsed['input'],
  };
}

export function formatSummary(result: WriteFleetResult): string {
  const lines = [
    `${result.aborted ? 'stopped early: ' : ''}${result.snapshots} snapshots, ${result.serviceEvents} licensing events, ` +
      `${result.files} files, ${(result.bytes / 1_048_576).toFixed(1)} MiB in ${result.outDir}`,
  ];
  const truth = result.truth;
  if (truth !== undefined) {
    const t = truth.totals;
    lines.push(
      `pool ${truth.settings.pool}: ${t.permanentInUseAtEnd} permanent in use at the end (peak ${t.peakPermanentInUse}), ` +
        `${t.temporaryAtEnd} temporary, ${t.revokedListedAtEnd} revoked; ${t.licensesIssued} licenses issued`,
    );
    const byKind = new Map<string, { count: number; leaked: number }>();
    for (const s of truth.scenarios) {
      const entry = byKind.get(s.kind) ?? { count: 0, leaked: 0 };
      entry.count += 1;
      entry.leaked += s.leakedCals;
      byKind.set(s.kind, entry);
    }
    for (const [kind, { count, leaked }] of byKind) lines.push(`  ${kind.padEnd(20)} ${String(count).padStart(4)} scenario(s), ${leaked} CALs leaked at the end`);
  }
  return lines.join('\n');
}

async function run(args: string[], io: CommandIo): Promise<number> {
  let parsed: Parsed | string;
  try {
    parsed = parse(args, io);
  } catch (error) {
    const message = isCalwatchError(error) ? `${error.code}: ${error.message}` : (error as Error).message;
    io.stderr.write(`calwatch simulate: ${message}\n${usage}\n`);
    return 2;
  }
  if (parsed === 'help') {
    io.stdout.write(usage + '\n');
    return 0;
  }
  if (typeof parsed === 'string') {
    io.stderr.write(`calwatch simulate:\n${parsed}\n${usage}\n`);
    return 2;
  }
  try {
    const simulation = simulateFleet(parsed.input);
    const progress = io.stderr.isTTY === true && !parsed.json;
    const result = await writeFleet(simulation, {
      outDir: parsed.out,
      formats: parsed.formats,
      gzip: parsed.gzip,
      signal: io.signal,
      onSnapshot: progress ? (takenAt, n) => io.stderr.write(`\r${n} snapshots, at ${takenAt}`) : undefined,
    });
    if (progress) io.stderr.write('\n');
    if (parsed.json) {
      const { truth, ...rest } = result;
      io.stdout.write(JSON.stringify({ ...rest, totals: truth?.totals, scenarios: truth?.scenarios.length }, null, 2) + '\n');
    } else io.stdout.write(formatSummary(result) + '\n');
    return result.aborted ? 130 : 0;
  } catch (error) {
    return reportCalwatchError('simulate', io, error, 2);
  }
}

export const command: Command = {
  name: 'simulate',
  summary: 'simulate a license server and a leaking fleet; write exports, events and truth.json',
  usage,
  run,
};
