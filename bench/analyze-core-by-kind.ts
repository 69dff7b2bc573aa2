/**
 * Where the detection core's time goes on a scale export, by the kind of device each event
 * is about (healthy, cloned image, churning VDI name: writeScaleExport's mix), for
 * bench/analyze.bench.ts (run in a child process of its own):
 *
 *   node --import tsx bench/analyze-core-by-kind.ts <export.csv> <as-of>
 *
 * Each event is applied and released at once (advanceTo its own time), so the work it causes
 * is timed in its own call; that adds a little per event against a plain run. Prints one JSON
 * object: the core's seconds in all and, per kind, the events, the microseconds per event and
 * the share of the core's time.
 */
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import type { CanonicalEvent } from '@calwatch/model';
import { type ScaleExportKind, scaleExportKindOf } from '@calwatch/simulator';
import { EventBuilder, listInputs, readInput } from '../services/cli/src/commands/analyze-input';

const [path, asOf] = process.argv.slice(2);
if (path === undefined || asOf === undefined) throw new Error('usage: analyze-core-by-kind.ts <export.csv> <as-of>');
const asOfMs = Date.parse(asOf);

const [file] = await listInputs([path], { cwd: process.cwd() });
const read = await readInput(file!, {});
const builder = new EventBuilder();
builder.add(read);
const built = builder.finish([read.report]);
const events: Array<{ event: CanonicalEvent; timeMs: number }> = [];
built.log.forEach((timeMs, build) => {
  if (timeMs <= asOfMs) events.push({ event: build(), timeMs });
});

// Metric names: healthyEvents, clonedImageUsPerEvent, churningNameShareOfCore, otherEvents (key packs).
const KEYS: Record<ScaleExportKind, string> = { healthy: 'healthy', 'cloned-image': 'clonedImage', 'churning-name': 'churningName' };
const kindOf = (event: CanonicalEvent): string => ('license' in event ? KEYS[scaleExportKindOf(event.license.computer.raw)] : 'other');
const spent = new Map<string, { events: number; ms: number }>();
// As analyze runs it: no enriched events, no state kept of a key no later event names.
const pipeline = createPipeline(parseCoreConfig({}), {}, undefined, { enriched: false, singleUse: built.log.singleUseKeys() });
const started = performance.now();
for (const { event, timeMs } of events) {
  const before = performance.now();
  const outcome = pipeline.apply(event);
  if (outcome.status === 'too-late') throw outcome.error;
  pipeline.advanceTo(timeMs);
  const kind = kindOf(event);
  const entry = spent.get(kind) ?? { events: 0, ms: 0 };
  entry.events++;
  entry.ms += performance.now() - before;
  spent.set(kind, entry);
}
pipeline.advanceTo(asOfMs);
pipeline.flush();
const totalMs = performance.now() - started;

const byKind: Record<string, number> = { events: events.length, coreS: Math.round(totalMs) / 1000 };
for (const [kind, { events: n, ms }] of spent) {
  byKind[`${kind}Events`] = n;
  byKind[`${kind}UsPerEvent`] = Math.round((ms * 1000) / n);
  byKind[`${kind}ShareOfCore`] = Math.round((ms / totalMs) * 100) / 100;
}
process.stdout.write(`${JSON.stringify(byKind)}\n`);
