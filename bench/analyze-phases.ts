/**
 * One `calwatch analyze` run split into its phases, for bench/analyze.bench.ts (run in a
 * child process so that its peak RSS is its own):
 *
 *   node --import tsx bench/analyze-phases.ts <export.csv> <as-of>
 *
 * Prints one JSON object: the ceiling (streaming the file and counting lines), reading and
 * parsing into license tables, diffing, de-duplicating and sorting, building every event,
 * counting the keys one event alone names,
 * the detection core alone (pipeline.apply over the built events, advance, flush) and the
 * report, each in seconds, and RSS / heap once the input is held.
 */
import { createReadStream } from 'node:fs';
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import { EventBuilder, listInputs, readInput } from '../services/cli/src/commands/analyze-input';
import { renderJson } from '../services/cli/src/commands/analyze-report';

const [path, asOf] = process.argv.slice(2);
if (path === undefined || asOf === undefined) throw new Error('usage: analyze-phases.ts <export.csv> <as-of>');
const asOfMs = Date.parse(asOf);
const seconds = (from: number) => Math.round((performance.now() - from) / 10) / 100;

let at = performance.now();
let lines = 0;
for await (const chunk of createReadStream(path)) {
  for (let i = (chunk as Buffer).indexOf(10); i >= 0; i = (chunk as Buffer).indexOf(10, i + 1)) lines++;
}
const ceilingReadS = seconds(at);

// The read in a function of its own, as analyze reads: no variable here keeps the license
// tables, which the drain below lets go as it reads them.
const readAndDiff = async () => {
  let start = performance.now();
  const [file] = await listInputs([path], { cwd: process.cwd() });
  const read = await readInput(file!, {});
  const readS = seconds(start);
  start = performance.now();
  const builder = new EventBuilder();
  builder.add(read);
  const built = builder.finish([read.report]);
  return { report: read.report, built, readS, diffS: seconds(start) };
};
const { report, built, readS, diffS } = await readAndDiff();

at = performance.now();
const events = built.log.size;
const sortS = seconds(at);

at = performance.now();
let built_ = 0;
built.log.forEach((timeMs, build) => {
  if (timeMs <= asOfMs && build().eventId.length === 32) built_++;
});
const buildS = seconds(at);
const rssAfterInputBytes = process.memoryUsage().rss;
const heapAfterInputBytes = process.memoryUsage().heapUsed;

at = performance.now();
const singleUse = built.log.singleUseKeys();
const singleUseS = seconds(at);

at = performance.now();
// As analyze runs it: no enriched events, no state kept of a key no later event names.
const pipeline = createPipeline(parseCoreConfig({}), {}, undefined, { enriched: false, singleUse });
built.log.drain((timeMs, build) => {
  if (timeMs > asOfMs) return;
  const outcome = pipeline.apply(build());
  if (outcome.status === 'too-late') throw outcome.error;
});
pipeline.advanceTo(asOfMs);
pipeline.flush();
// The loop above built every event again (and copied the input into the windows it lets go
// of as it goes): the core's share is the rest.
const coreS = Math.max(0, Math.round((seconds(at) - buildS) * 100) / 100);

at = performance.now();
const findings = pipeline.findings();
const json = renderJson({ asOf, reports: [report], built, findings, revocations: [], eventsApplied: built_, eventsAfterAsOf: events - built_, timeAhead: { count: 0, examples: [] }, pools: [] });
const reportS = seconds(at);

process.stdout.write(
  `${JSON.stringify({
    lines,
    records: report.records,
    events,
    openFindings: findings.filter((f) => f.state === 'open').length,
    outputBytes: json.length,
    ceilingReadS,
    readS,
    diffS,
    sortS,
    buildS,
    singleUseS,
    coreS,
    reportS,
    rssAfterInputBytes,
    heapAfterInputBytes,
    rssEndBytes: process.memoryUsage().rss,
  })}\n`,
);
