import { type IncomingRecord } from '@calwatch/kafka';
import { CalwatchError, isCalwatchError } from '@calwatch/model';
import { retry, type Logger } from '@calwatch/runtime';
import { planBatch, type InputKind, type IndexAction } from './batch-plan';
import { buildRejectionDraft, type DocumentSink, type RejectedItem } from './bulk-outcome';
import type { DeadLetterDraft } from './dead-letters';
import { INDEXER_ERRORS } from './errors';
import type { IndexNames } from './index-names';

/** Where set-aside records go; the service's implementation produces to the dead-letter topic. */
export interface DeadLetterSink {
  /** Resolves once the records are durably written; throws a coded error otherwise. */
  send(drafts: readonly DeadLetterDraft[]): Promise<void>;
}

export interface BatchControl {
  /** Keeps the consumer-group session alive while a batch waits; throws when a rebalance began. */
  heartbeat(): Promise<void>;
  /** True once the partition was taken away: stop, do not commit. */
  isStale(): boolean;
}

/** What became of a batch's records; the service sums them into its stats. */
export interface BatchCounts {
  records: number;
  written: number;
  stale: number;
  superseded: number;
  invalid: number;
  rejected: number;
}

export interface BatchResult extends BatchCounts {
  attempts: number;
  /** The partition was taken away mid-batch; nothing may be committed. */
  abandoned: boolean;
  /** From decoding the first record to the last acknowledgement (waits included). */
  elapsedMs: number;
}

export interface BatchIndexerOptions {
  sink: DocumentSink;
  deadLetters: DeadLetterSink;
  names: IndexNames;
  topics: ReadonlyMap<string, InputKind>;
  logger: Logger;
  /** Backoff of Elasticsearch retries; past `budgetMs` of failing (when set) the batch fails for good. */
  retry: { minDelayMs: number; maxDelayMs: number; budgetMs?: number };
  /** Heartbeats while a batch waits for Elasticsearch. */
  heartbeatIntervalMs: number;
  /** Aborted on shutdown: waiting batches give up without committing. */
  signal: AbortSignal;
  now?: () => Date;
}

export interface BatchIndexer {
  /** Resolves only when every document is acknowledged, stale or dead-lettered: then the batch may be committed. */
  index(records: readonly IncomingRecord[], control: BatchControl): Promise<BatchResult>;
}

class Abandoned extends Error {}

/**
 * The indexer's per-batch loop. Elasticsearch trouble (connection lost, 429, 5xx, node down
 * for minutes) holds the batch and retries the documents not yet acknowledged with
 * backoff up to the outage budget: the consumer fetches nothing new meanwhile (memory
 * stays bounded) and the offset is committed only after the loop resolves; past the
 * budget the batch fails (INDEXER_OUTAGE_EXCEEDED) and the indexer stops loud. Documents refused for good go
 * to the dead-letter topic with the reason.
 */
export function createBatchIndexer(options: BatchIndexerOptions): BatchIndexer {
  const { sink, deadLetters, logger } = options;
  const now = options.now ?? (() => new Date());

  async function sendDeadLetters(drafts: readonly DeadLetterDraft[], signal: AbortSignal): Promise<void> {
    if (drafts.length === 0) return;
    await retry(() => deadLetters.send(drafts), {
      retries: Number.POSITIVE_INFINITY,
      minDelayMs: options.retry.minDelayMs,
      maxDelayMs: options.retry.maxDelayMs,
      signal,
      onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs, count: drafts.length }, 'dead-letter write failed, retrying'),
    });
  }

  return {
    async index(records, control): Promise<BatchResult> {
      const started = performance.now();
      const plan = planBatch(records, { names: options.names, topics: options.topics, now: now().toISOString() });
      const result: BatchResult = {
        records: records.length,
        written: 0,
        stale: 0,
        superseded: plan.superseded,
        invalid: plan.invalid.length,
        rejected: 0,
        attempts: 0,
        abandoned: false,
        elapsedMs: 0,
      };
      const local = new AbortController();
      const signal = AbortSignal.any([options.signal, local.signal]);
      let heartbeatError: unknown;
      const beat = setInterval(() => {
        control.heartbeat().catch((error: unknown) => {
          // A rebalance began: give the partition up rather than hold the group.
          heartbeatError = error;
          local.abort(error);
        });
      }, options.heartbeatIntervalMs);
      beat.unref();
      const rejected = new Map<string, RejectedItem>();
      try {
        await sendDeadLetters(plan.invalid, signal);
        let pending: readonly IndexAction[] = plan.actions;
        await retry(
          async () => {
            if (control.isStale()) throw new Abandoned();
            result.attempts++;
            const outcome = await sink.write(pending);
            result.written += outcome.written;
            result.stale += outcome.stale;
            for (const item of outcome.rejected) rejected.set(`${item.action.index}\u0000${item.action.id}`, item);
            pending = outcome.retry;
            if (pending.length > 0) {
              throw INDEXER_ERRORS.create(
                'INDEXER_ELASTICSEARCH_UNAVAILABLE',
                outcome.requestError === null
                  ? `${pending.length} documents refused retriably`
                  : `bulk request failed: ${outcome.requestError.message}`,
                { cause: outcome.requestError ?? undefined, context: { pending: pending.length } },
              );
            }
          },
          {
            retries: Number.POSITIVE_INFINITY,
            minDelayMs: options.retry.minDelayMs,
            maxDelayMs: options.retry.maxDelayMs,
            ...(options.retry.budgetMs === undefined ? {} : { maxElapsedMs: options.retry.budgetMs }),
            signal,
            isRetriable: (error) => error instanceof CalwatchError && error.retriable,
            onRetry: (error, attempt, delayMs) =>
              logger.warn({ err: error, attempt, delayMs, pending: pending.length }, 'Elasticsearch unavailable, holding the batch'),
          },
        );
        result.rejected = rejected.size;
        await sendDeadLetters([...rejected.values()].map(buildRejectionDraft), signal);
        return { ...result, elapsedMs: performance.now() - started };
      } catch (error) {
        if (error instanceof Abandoned) return { ...result, abandoned: true, elapsedMs: performance.now() - started };
        if (heartbeatError !== undefined) throw heartbeatError;
        if (isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED')) {
          const last = error.cause instanceof Error ? error.cause.message : String(error.cause);
          throw INDEXER_ERRORS.create('INDEXER_OUTAGE_EXCEEDED', `Elasticsearch unavailable for longer than the outage budget of ${options.retry.budgetMs} ms: ${last}`, {
            cause: error.cause,
            context: { ...error.context, outageBudgetMs: options.retry.budgetMs, pending: result.records - result.written - result.stale },
          });
        }
        if (options.signal.aborted) {
          throw INDEXER_ERRORS.create('INDEXER_STOPPED', 'stopped while the batch waited for Elasticsearch; it will be re-delivered', {
            cause: error,
          });
        }
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
