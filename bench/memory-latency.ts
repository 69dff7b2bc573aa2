/**
 * The machine's memory latency: a chase of dependent loads through a random cycle of cache
 * lines, in working sets from one that fits the caches to one far larger. The detection core
 * reads state spread over a heap of hundreds of megabytes, so what it costs per event follows
 * this figure more than the CPU's speed; the scale results carry it to say which machine they
 * came from.
 */
import type { BenchResult } from './run';

const LINE_WORDS = 16; // 64-byte lines of 4-byte words
const STEPS = 2_000_000;

/** Nanoseconds per dependent load in a working set of `mib` MiB. */
function chase(mib: number, random: () => number): number {
  const words = (mib * 1024 * 1024) / 4;
  const lines = words / LINE_WORDS;
  const order = new Uint32Array(lines);
  for (let i = 0; i < lines; i++) order[i] = i;
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const next = new Uint32Array(words);
  for (let i = 0; i < lines; i++) next[order[i]! * LINE_WORDS] = order[(i + 1) % lines]! * LINE_WORDS;
  let at = 0;
  const started = performance.now();
  for (let i = 0; i < STEPS; i++) at = next[at]!;
  const ns = ((performance.now() - started) * 1e6) / STEPS;
  // `at` is read so that the loop cannot be dropped.
  return at >= 0 ? ns : Number.NaN;
}

export function measureMemoryLatency(): BenchResult {
  // A fixed sequence (xorshift), so runs compare like with like.
  let state = 0x9e3779b9;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const metrics: Record<string, number> = {};
  for (const mib of [1, 8, 64, 256]) metrics[`ns${mib}MiB`] = Math.round(chase(mib, random) * 10) / 10;
  return {
    name: 'machine: memory latency',
    metrics,
    notes: 'nanoseconds per dependent load through a random cycle of 64-byte lines, by working set (bench/memory-latency.ts)',
  };
}
