import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS, type PlannedRevocation, Severity, isCalwatchError, newestVouchedTimeMs } from '@calwatch/model';
import { createPipeline, parseCoreConfig, type CoreConfig } from '@calwatch/processor/core';
import { type BuiltEvents, EventBuilder, type FileReport, type InputFile, InputError, listInputs, readInput, readingOrder } from './analyze-input';
import { renderHtml } from './analyze-html';
import { PoolSeriesBuilder } from './analyze-pools';
import { type RunFacts, buildAnalysis, openFindings, renderJson, renderTable } from './analyze-report';
import { UsageError, parseArguments } from './command-support';
import type { Command, CommandIo } from './registry';

/** Exit codes of `calwatch analyze` (documented in docs/detection.md). */
export const ANALYZE_EXIT = { ok: 0, error: 1, usage: 2, findings: 3 } as const;

const usage = `usage: calwatch analyze <file|dir ...> [options]

Finds where per-device CALs leak in license-server exports and event files, in process
(no Kafka, no Elasticsearch). Reads Win32_TSIssuedLicense / Win32_TSLicenseKeyPack exports
(CSV or JSON, PowerShell 5.1 or 7, gzip or not), Winlogbeat NDJSON, event XML, canonical
and client-store NDJSON. Directories are walked. Several exports of one server are
successive snapshots, ordered by snapshot time: --snapshot-time, else a time stamp in the
file name (20240612T093000Z, 2024-06-12T09-30-00Z, 2024-06-12, ...), else the file's mtime,
kept within what the export proves: not after the earliest expiry of a license it lists as
issued, not before its newest issue date (a warning says when the mtime was outside).

options:
  --format table|json|html output (default: table on a terminal, json otherwise); html is
                           one self-contained page (charts, revoke table) for a browser
  --out <file>             write the output to this file instead of stdout
  --as-of <iso>            evaluate at this instant (default: the newest time in the input)
  --license-server <name>  for rows and events that do not name their license server
  --snapshot-time <iso>    snapshot time of the one file given
  --set <key=value>        override a detection threshold, e.g. --set churn.minHwids=4
                           (repeatable; keys as in docs/detection.md)
  --config <file.json>     thresholds from a JSON file (--set wins)
  --fail-on <severity>     exit 3 when an open finding is at least this severe
                           (info, low, medium, high, critical)
  --progress               progress on stderr (default: when stderr is a terminal)
  -h, --help               this text

exit codes: 0 done, 1 unreadable input, 2 usage or config error, 3 findings at or above --fail-on`;

const FORMATS = ['table', 'json', 'html'] as const;

interface Options {
  paths: string[];
  format: (typeof FORMATS)[number];
  out: string | undefined;
  asOf: string | undefined;
  licenseServer: string | undefined;
  snapshotTime: string | undefined;
  config: CoreConfig;
  failOn: Severity | undefined;
  progress: boolean;
}

function isoOption(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be an ISO-8601 instant, got '${value}'`);
  return new Date(ms).toISOString();
}

/** `a.b=12` -> { a: { b: 12 } }; numbers and booleans are typed, the rest stays text. */
function applySet(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set expects key=value, got '${assignment}'`);
  const path = assignment.slice(0, eq).trim().split('.');
  const text = assignment.slice(eq + 1).trim();
  const value: unknown = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text === 'true' ? true : text === 'false' ? false : text;
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (typeof next !== 'object' || next === null) throw new UsageError(`--set ${assignment}: ${part} is not a group`);
    node = node[part] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

async function parse(args: string[], io: CommandIo): Promise<Options | 'help'> {
  const { values, positionals } = parseArguments({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string' },
      out: { type: 'string' },
      'as-of': { type: 'string' },
      'license-server': { type: 'string' },
      'snapshot-time': { type: 'string' },
      set: { type: 'string', multiple: true },
      config: { type: 'string' },
      'fail-on': { type: 'string' },
      progress: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length === 0) throw new UsageError('name at least one file or directory');
  const format = values.format ?? (io.stdout.isTTY === true && values.out === undefined ? 'table' : 'json');
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be ${FORMATS.join(', ')}, got '${format}'`);
  let failOn: Severity | undefined;
  if (values['fail-on'] !== undefined) {
    const result = Severity.safeParse(values['fail-on']);
    if (!result.success) throw new UsageError(`--fail-on must be one of ${Severity.options.join(', ')}`);
    failOn = result.data;
  }

  let overrides: Record<string, unknown> = {};
  if (values.config !== undefined) {
    let text: string;
    try {
      text = await readFile(resolve(io.cwd, values.config), 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read --config ${values.config}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
      const json: unknown = JSON.parse(text);
      if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not an object');
      overrides = json as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--config ${values.config} is not a JSON object (${(error as Error).message})`);
    }
  }
  for (const assignment of values.set ?? []) applySet(overrides, assignment);
  let config: CoreConfig;
  try {
    config = parseCoreConfig(overrides);
  } catch (error) {
    if (isCalwatchError(error, 'PROCESSOR_CONFIG_INVALID')) throw new UsageError(error.message);
    throw error;
  }

  return {
    paths: positionals,
    format: format as Options['format'],
    out: values.out,
    asOf: isoOption('as-of', values['as-of']),
    licenseServer: values['license-server'],
    snapshotTime: isoOption('snapshot-time', values['snapshot-time']),
    config,
    failOn,
    progress: values.progress === true || io.stderr.isTTY === true,
  };
}

/**
 * Reads the files into one event stream. A function of its own so that nothing of a file's
 * read (its license tables) outlives it in a variable of the caller: the stream's drain lets
 * the tables go as it reads them.
 */
async function readFiles(
  files: readonly InputFile[],
  options: Options,
  io: CommandIo,
  say: (line: string) => void,
): Promise<{ inOrder: FileReport[]; built: BuiltEvents }> {
  // Files are read in snapshot-time order so that each export is diffed as soon as it is
  // read and only the previous one per server is kept; the report lists them as named.
  const reports = new Map<InputFile, FileReport>();
  const builder = new EventBuilder();
  for (const [index, file] of readingOrder(files).entries()) {
    if (io.signal.aborted) throw new InputError('interrupted');
    say(`reading ${file.display} (${index + 1}/${files.length})`);
    const read = await readInput(file, {
      ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
      onRecords: (n) => say(`  ${file.display}: ${n.toLocaleString('en-US')} records`),
    });
    const report = read.report;
    if (report.unknownFormat && file.explicit) {
      throw new InputError(
        `cannot read ${file.display}: unknown format (not a license or key pack export, Winlogbeat NDJSON, event XML, canonical or client-store NDJSON)`,
      );
    }
    if (report.unknownFormat) io.stderr.write(`analyze: skipping ${file.display}: unknown format\n`);
    if (report.file.snapshotTimeWarning !== undefined) io.stderr.write(`analyze: warning: ${report.file.snapshotTimeWarning}\n`);
    builder.add(read);
    reports.set(file, report);
  }

  const inOrder = files.map((file) => reports.get(file)!);
  return { inOrder, built: builder.finish(inOrder) };
}

async function analyze(options: Options, io: CommandIo): Promise<number> {
  // A batch run that allocates far more than it keeps: V8's default lets the heap outgrow its
  // live objects by about half before a full collection; 20 % keeps a million-row analysis
  // about 0.35 GiB smaller, and no slower (docs/detection.md).
  setFlagsFromString('--heap-growing-percent=20');
  const say = (line: string) => {
    if (options.progress) io.stderr.write(`analyze: ${line}\n`);
  };
  const files = await listInputs(options.paths, {
    cwd: io.cwd,
    ...(options.snapshotTime === undefined ? {} : { snapshotTime: options.snapshotTime }),
  });
  if (options.snapshotTime !== undefined && files.length !== 1) {
    throw new UsageError(`--snapshot-time applies to a single file; ${files.length} files were given`);
  }
  if (files.length === 0) throw new InputError(`no files found under ${options.paths.join(', ')}`);

  const { inOrder, built } = await readFiles(files, options, io, say);
  // An event far past what the files vouch for (a source clock in 2999) is set aside and
  // reported: taken in, it would move the clock to its time and resolve every finding.
  const boundMs = newestVouchedTimeMs(files.map((file) => Date.parse(file.snapshotTime)), Date.now()) + DEFAULT_MAX_EVENT_TIME_SKEW_MS;
  const timeAhead: RunFacts['timeAhead'] = { count: 0, examples: [] };
  let newestEvent = Number.NEGATIVE_INFINITY;
  built.log.forEach((timeMs, build) => {
    if (timeMs <= boundMs) newestEvent = Math.max(newestEvent, timeMs);
    else {
      timeAhead.count++;
      if (timeAhead.examples.length < 3) {
        const event = build();
        timeAhead.examples.push(`${event.source.ref}: ${event.type} ${event.eventId} at ${event.eventTime} is more than a day past ${new Date(boundMs - DEFAULT_MAX_EVENT_TIME_SKEW_MS).toISOString()}`);
      }
    }
  });
  // The newest time in the input: the newest event or the newest snapshot.
  let newest = newestEvent;
  for (const report of inOrder) {
    if (report.issued.length > 0 || report.keyPacks.length > 0) newest = Math.max(newest, Date.parse(report.file.snapshotTime));
  }
  if (!Number.isFinite(newest)) for (const file of files) newest = Math.max(newest, Date.parse(file.snapshotTime));
  const asOf = options.asOf ?? new Date(newest).toISOString();
  const asOfMs = Date.parse(asOf);
  if (Number.isFinite(newest) && asOfMs > newest) {
    // Quiet periods then pass with no data behind them: findings resolve, orphans expire.
    io.stderr.write(
      `analyze: --as-of ${asOf} is after the newest input (${new Date(newest).toISOString()}); time without data counts as quiet\n`,
    );
  }

  say(`detecting over ${built.log.size.toLocaleString('en-US')} events`);
  // The complete revoke plan: each license's latest record; a withdrawn one leaves it.
  const plan = new Map<string, PlannedRevocation>();
  // The report is findings and the plan: no enriched events are built.
  const pipeline = createPipeline(
    options.config,
    {
      onRevocation: (revocation, key) => {
        if (revocation.state === 'planned') plan.set(key, revocation);
        else plan.delete(key);
      },
    },
    undefined,
    // The whole input is at hand: the state of a device no later event names is not kept.
    { enriched: false, singleUse: built.log.singleUseKeys() },
  );
  const pools = new PoolSeriesBuilder();
  let applied = 0;
  let afterAsOf = 0;
  // Events are built one at a time as the pipeline takes them, and the input goes as it is
  // read: only the pipeline's reorder buffer (the allowed lateness) and its state stay.
  built.log.drain((timeMs, build) => {
    if (timeMs > boundMs) return;
    if (timeMs > asOfMs) {
      afterAsOf++;
      return;
    }
    // Sorted input is never too late; the outcome is checked so nothing vanishes silently.
    const event = build();
    pools.add(event, timeMs);
    const outcome = pipeline.apply(event);
    if (outcome.status === 'too-late') throw outcome.error;
    applied++;
    if (applied % 100_000 === 0) say(`  ${applied.toLocaleString('en-US')} events`);
  });
  pipeline.advanceTo(asOfMs);
  pipeline.flush();

  const facts: RunFacts = {
    asOf,
    reports: inOrder,
    built,
    findings: pipeline.findings(),
    revocations: [...plan.values()],
    eventsApplied: applied,
    eventsAfterAsOf: afterAsOf,
    timeAhead,
    pools: pools.finish(asOf, options.config.pool.rateWindowDays),
  };
  const output =
    options.format === 'json' ? renderJson(facts) : options.format === 'html' ? renderHtml(buildAnalysis(facts)) : renderTable(facts);
  if (options.out === undefined) io.stdout.write(output);
  else {
    const target = resolve(io.cwd, options.out);
    try {
      await writeFile(target, output);
    } catch (error) {
      throw new InputError(`cannot write --out ${options.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    say(`wrote ${options.out} (${Buffer.byteLength(output).toLocaleString('en-US')} bytes)`);
  }
  if (options.failOn !== undefined) {
    const threshold = Severity.options.indexOf(options.failOn);
    if (openFindings(facts.findings).some((f) => Severity.options.indexOf(f.severity) >= threshold)) return ANALYZE_EXIT.findings;
  }
  return ANALYZE_EXIT.ok;
}

export const command: Command = {
  name: 'analyze',
  summary: 'find leaking CALs in exports and event files, offline',
  offline: true,
  usage,
  async run(args, io) {
    try {
      const options = await parse(args, io);
      if (options === 'help') {
        io.stdout.write(`${usage}\n`);
        return ANALYZE_EXIT.ok;
      }
      return await analyze(options, io);
    } catch (error) {
      if (error instanceof UsageError) {
        io.stderr.write(`calwatch analyze: ${error.message}\n\n${usage}\n`);
        return ANALYZE_EXIT.usage;
      }
      if (error instanceof InputError) {
        io.stderr.write(`calwatch analyze: ${error.message}\n`);
        return ANALYZE_EXIT.error;
      }
      throw error;
    }
  },
};
