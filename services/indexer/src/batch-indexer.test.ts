import { describe, expect, it } from 'vitest';
import { type IncomingRecord } from '@calwatch/kafka';
import { isCalwatchError } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createBatchIndexer, type BatchControl, type DeadLetterSink } from './batch-indexer';
import type { IndexAction, InputKind } from './batch-plan';
import { INDEXER_ERRORS } from './errors';
import type { DocumentSink, WriteOutcome } from './bulk-outcome';
import type { DeadLetterDraft } from './dead-letters';
import { buildIndexNames } from './index-names';
import { buildSampleLicenseEvent } from './testing/samples';
import { waitFor } from '../../../test/harness/wait-for';

const names = buildIndexNames('calwatch-');
const topics = new Map<string, InputKind>([['calwatch.enriched', 'enriched']]);

function records(count: number): IncomingRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: 'calwatch.enriched',
    partition: 0,
    offset: String(i),
    key: null,
    value: Buffer.from(JSON.stringify(buildSampleLicenseEvent({ seq: i }))),
    headers: {},
    timestamp: '0',
  }));
}

type Step = (actions: readonly IndexAction[]) => WriteOutcome | Error;

/** A sink that answers each write with the next scripted step, recording what it was sent. */
function scriptedSink(steps: Step[]): DocumentSink & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async write(actions) {
      calls.push(actions.map((a) => a.id));
      const step = steps.shift() ?? ((all) => ({ written: all.length, stale: 0, rejected: [], retry: [], requestError: null }));
      const outcome = step(actions);
      if (outcome instanceof Error) throw outcome;
      return outcome;
    },
  };
}

function collectingDeadLetters(): DeadLetterSink & { sent: DeadLetterDraft[] } {
  const sent: DeadLetterDraft[] = [];
  return { sent, send: async (drafts) => void sent.push(...drafts) };
}

const control: BatchControl = { heartbeat: async () => undefined, isStale: () => false };

function indexer(sink: DocumentSink, deadLetters: DeadLetterSink, signal = new AbortController().signal) {
  return createBatchIndexer({
    sink,
    deadLetters,
    names,
    topics,
    logger: createSilentLogger(),
    retry: { minDelayMs: 1, maxDelayMs: 5 },
    heartbeatIntervalMs: 5,
    signal,
  });
}

describe('createBatchIndexer', () => {
  it('retries only the documents refused retriably until all are acknowledged', async () => {
    const sink = scriptedSink([
      (all) => ({ written: 1, stale: 0, rejected: [], retry: all.slice(1), requestError: null }),
      (rest) => ({ written: rest.length, stale: 0, rejected: [], retry: [], requestError: null }),
    ]);
    const dl = collectingDeadLetters();
    const result = await indexer(sink, dl).index(records(3), control);
    expect(sink.calls.map((c) => c.length)).toEqual([3, 2]);
    expect(sink.calls[1]).toEqual(sink.calls[0]!.slice(1));
    expect(result).toMatchObject({ attempts: 2, written: 3 });
    expect(dl.sent).toEqual([]);
  });

  it('holds the batch through whole-request failures (node down) and resends everything', async () => {
    const down: Step = (all) => ({ written: 0, stale: 0, rejected: [], retry: [...all], requestError: new Error('connect ECONNREFUSED') });
    const sink = scriptedSink([down, down, down]);
    const result = await indexer(sink, collectingDeadLetters()).index(records(4), control);
    expect(sink.calls).toHaveLength(4);
    expect(result).toMatchObject({ written: 4, attempts: 4, abandoned: false });
  });

  it('dead-letters invalid records and rejected documents, and counts stale ones', async () => {
    const input = records(3);
    input.push({ ...input[0]!, offset: '99', value: Buffer.from('nope') });
    const sink = scriptedSink([
      (all) => ({
        written: 1,
        stale: 1,
        rejected: [{ action: all[2]!, error: { status: 400, type: 'document_parsing_exception', reason: 'failed to parse field [host.name]' } }],
        retry: [],
        requestError: null,
      }),
    ]);
    const dl = collectingDeadLetters();
    const result = await indexer(sink, dl).index(input, control);
    expect(dl.sent.map((d) => [d.code, d.record.offset])).toEqual([
      ['INDEXER_INVALID_JSON', '99'],
      ['INDEXER_DOCUMENT_REJECTED', '2'],
    ]);
    expect(result).toMatchObject({ invalid: 1, rejected: 1, stale: 1, written: 1 });
  });

  it('stops a waiting batch on shutdown without resolving it (so it is not committed)', async () => {
    const stop = new AbortController();
    const down: Step = (all) => ({ written: 0, stale: 0, rejected: [], retry: [...all], requestError: new Error('down') });
    const sink = scriptedSink(Array.from({ length: 1000 }, () => down));
    const pending = indexer(sink, collectingDeadLetters(), stop.signal).index(records(2), control);
    // Stopped while the batch waits out the node being down.
    await waitFor(() => sink.calls.length >= 2, 5_000, 'the batch to be retrying', { intervalMs: 5 });
    stop.abort();
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCalwatchError(error, 'INDEXER_STOPPED')).toBe(true);
  });

  it('gives a batch up when the partition was taken away', async () => {
    let stale = false;
    const down: Step = (all) => {
      stale = true;
      return { written: 0, stale: 0, rejected: [], retry: [...all], requestError: new Error('down') };
    };
    const result = await indexer(scriptedSink([down]), collectingDeadLetters()).index(records(2), { heartbeat: async () => undefined, isStale: () => stale });
    expect(result.abandoned).toBe(true);
  });

  it('surfaces a rebalance seen by the heartbeat instead of holding the group', async () => {
    const down: Step = (all) => ({ written: 0, stale: 0, rejected: [], retry: [...all], requestError: new Error('down') });
    const sink = scriptedSink(Array.from({ length: 10_000 }, () => down));
    const rebalance = new Error('The group is rebalancing, so a rejoin is needed');
    const error = await createBatchIndexer({
      sink,
      deadLetters: collectingDeadLetters(),
      names,
      topics,
      logger: createSilentLogger(),
      retry: { minDelayMs: 20, maxDelayMs: 20 },
      heartbeatIntervalMs: 5,
      signal: new AbortController().signal,
    })
      .index(records(1), { heartbeat: async () => Promise.reject(rebalance), isStale: () => false })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBe(rebalance);
  });

  it('lets a non-retriable request failure through (the consumer stops, nothing is committed)', async () => {
    const fatal = INDEXER_ERRORS.create('INDEXER_BULK_FAILED', 'security_exception: unable to authenticate');
    const error = await indexer(scriptedSink([() => fatal]), collectingDeadLetters())
      .index(records(1), control)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBe(fatal);
  });

  it('retries dead-letter writes until they succeed', async () => {
    let failures = 2;
    const sent: DeadLetterDraft[] = [];
    const flaky: DeadLetterSink = {
      async send(drafts) {
        if (failures-- > 0) throw INDEXER_ERRORS.create('INDEXER_ELASTICSEARCH_UNAVAILABLE', 'broker away');
        sent.push(...drafts);
      },
    };
    const input = records(1);
    input[0] = { ...input[0]!, value: null };
    await indexer(scriptedSink([]), flaky).index(input, control);
    expect(sent.map((d) => d.code)).toEqual(['INDEXER_EMPTY_RECORD']);
  });

  it('fails the batch with INDEXER_OUTAGE_EXCEEDED once an outage outlasts the budget', async () => {
    const down: Step = (all) => ({ written: 0, stale: 0, rejected: [], retry: [...all], requestError: new Error('connect ECONNREFUSED') });
    const sink = scriptedSink(Array.from({ length: 10_000 }, () => down));
    const error = await createBatchIndexer({
      sink,
      deadLetters: collectingDeadLetters(),
      names,
      topics,
      logger: createSilentLogger(),
      retry: { minDelayMs: 1, maxDelayMs: 5, budgetMs: 40 },
      heartbeatIntervalMs: 5,
      signal: new AbortController().signal,
    })
      .index(records(2), control)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'INDEXER_OUTAGE_EXCEEDED', retriable: false, context: { outageBudgetMs: 40, pending: 2 } });
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});
