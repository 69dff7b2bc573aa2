import { randomUUID } from 'node:crypto';
import { Consumer as LibraryConsumer, FetchIsolationLevels, findErrorBy, type BaseOptions, type RecordsBatch } from '@platformatic/kafka';
import { SHARED_ERRORS } from '@calwatch/model';
import { rideOutOutage } from './outage';
import { toPlatformaticKafkaError } from './platformatic-errors';
import type { IncomingRecord, PartitionReader } from './types';

export interface PlatformaticReaderSettings {
  clientOptions: BaseOptions;
  outageBudgetMs: number;
  backoff: { minDelayMs: number; maxDelayMs: number };
  /** Bytes per partition per fetch; a larger first batch is still returned whole (KIP-74). */
  maxBytesPerPartition?: number;
}

// Record batch attributes (Kafka's DefaultRecordBatch): timestamp type and control batch flags.
const LOG_APPEND_TIME = 0x08;
const CONTROL_BATCH = 0x20;

const FETCH_MAX_WAIT_MS = 100;

type FetchResponse = Awaited<ReturnType<LibraryConsumer['fetch']>>;

/** Headers of a record without any: one object for all of them (a restore reads a million records, few with headers). */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The highest offset or time stamp a Number holds exactly. */
const EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** An offset relative to a batch's first as a Number to compare deltas with (none is below 0 or above 2^31). */
function asDelta(relative: bigint): number {
  if (relative <= 0n) return 0;
  return relative > 0x7fffffffn ? Number.POSITIVE_INFINITY : Number(relative);
}

/** A record's time stamp as a decimal string: counted as a Number when it is exact. */
function timestampOf(batch: RecordsBatch, firstTimestamp: number, delta: bigint): string {
  const ms = firstTimestamp + Number(delta);
  return Number.isSafeInteger(ms) ? String(ms) : (batch.firstTimestamp + delta).toString();
}

/** One partition's records of one batch as the port hands them on, between `from` (inclusive) and `end` (exclusive). */
function collectBatch(topic: string, partition: number, batch: RecordsBatch, from: bigint, end: bigint, into: IncomingRecord[]): void {
  const logAppendTime = (batch.attributes & LOG_APPEND_TIME) !== 0;
  // Offsets and time stamps are 64-bit; below 2^53 (every real one) they are counted as
  // Numbers, sparing two BigInts a record, the same decimal strings either way.
  const exact = batch.firstOffset + BigInt(batch.lastOffsetDelta) <= EXACT;
  const firstOffset = Number(batch.firstOffset);
  const firstTimestamp = batch.firstTimestamp <= EXACT && batch.firstTimestamp >= -EXACT ? Number(batch.firstTimestamp) : Number.NaN;
  const maxTimestamp = batch.maxTimestamp.toString();
  // A compressed batch starts before the offset asked for; nothing past the end counts. The
  // bounds as deltas within the batch (a delta is a 32-bit Number).
  const skipBelow = asDelta(from - batch.firstOffset);
  const stopAt = asDelta(end - batch.firstOffset);
  for (const record of batch.records) {
    if (record.offsetDelta < skipBelow || record.offsetDelta >= stopAt) continue;
    let headers = NO_HEADERS;
    if (record.headers.length > 0) {
      headers = {};
      for (const [name, value] of record.headers) {
        if (name === null) continue;
        const key = name.toString('utf8');
        // kafkajs hands on the first value of a repeated header: so does this reader.
        if (!(key in headers)) headers[key] = value === null ? '' : value.toString('utf8');
      }
    }
    into.push({
      topic,
      partition,
      offset: exact ? String(firstOffset + record.offsetDelta) : (batch.firstOffset + BigInt(record.offsetDelta)).toString(),
      key: record.key === null ? null : record.key.toString('utf8'),
      value: record.value,
      headers,
      timestamp: logAppendTime ? maxTimestamp : timestampOf(batch, firstTimestamp, record.timestampDelta),
    });
  }
}

/**
 * The port's PartitionReader over @platformatic/kafka's low-level fetch: no consumer group
 * at all. Each partition is read from its log start to the last stable offset it had when
 * the read began (the high watermark, as calwatch writes no transactions; records of aborted
 * transactions are dropped by the library in read_committed). Control batches, compacted
 * gaps and records before the asked offset are skipped; a log start that moved past the
 * reader (retention, compaction) restarts it there; a moved leader is found again through
 * fresh metadata; failures that waiting can fix are retried within the outage budget.
 */
export function createPlatformaticPartitionReader(settings: PlatformaticReaderSettings): PartitionReader {
  const partitionMaxBytes = settings.maxBytesPerPartition ?? 1_048_576;
  const outage = <T>(action: string, operation: () => Promise<T>, signal?: AbortSignal): Promise<T> =>
    rideOutOutage(operation, { budgetMs: settings.outageBudgetMs, ...settings.backoff, action, ...(signal === undefined ? {} : { signal }) });

  return {
    async readToEnd(topic, partitions, onRecords): Promise<{ records: number }> {
      if (partitions.length === 0) return { records: 0 };
      // Never joins its group: fetch and listOffsets need no membership.
      const consumer = new LibraryConsumer({ ...settings.clientOptions, groupId: `calwatch-reader-${randomUUID()}`, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
      const wanted = new Set(partitions);
      // Ends the retries of a fetch still out when the read stops (the caller threw).
      const stopped = new AbortController();

      async function logStarts(): Promise<bigint[]> {
        try {
          return (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
        } catch (error) {
          throw toPlatformaticKafkaError(error, `list start offsets of ${topic}`);
        }
      }

      try {
        const [starts, ends] = await outage('read to end', async () => {
          try {
            const started = await logStarts();
            const ended = (await consumer.listOffsets({ topics: [topic], isolationLevel: FetchIsolationLevels.READ_COMMITTED })).get(topic) ?? [];
            return [started, ended] as const;
          } catch (error) {
            throw toPlatformaticKafkaError(error, `list offsets of ${topic}`);
          }
        });
        // Where each unfinished partition goes on, and the end it had when the read began.
        const next = new Map<number, bigint>();
        const end = new Map<number, bigint>();
        for (const partition of wanted) {
          const from = starts[partition];
          const until = ends[partition];
          if (from === undefined || until === undefined) {
            throw SHARED_ERRORS.create('SHARED_KAFKA_REQUEST_FAILED', `read to end: ${topic} has no partition ${partition}`, { context: { topic, partition } });
          }
          if (until > from) {
            next.set(partition, from);
            end.set(partition, until);
          }
        }

        let refreshMetadata = false;
        /** One fetch per leader for all of its unfinished partitions; an out-of-range partition moves to its new log start. */
        async function fetchRound(): Promise<FetchResponse[]> {
          try {
            const metadata = await consumer.metadata({ topics: [topic], forceUpdate: refreshMetadata });
            refreshMetadata = false;
            const described = metadata.topics.get(topic);
            if (described === undefined) throw SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', `read to end: no metadata for ${topic}`, { context: { topic } });
            const byLeader = new Map<number, number[]>();
            for (const partition of next.keys()) {
              const leader = described.partitions[partition]?.leader ?? -1;
              const list = byLeader.get(leader);
              if (list === undefined) byLeader.set(leader, [partition]);
              else list.push(partition);
            }
            const fetches = [...byLeader].map(async ([node, leaderPartitions]) => {
              try {
                return await consumer.fetch({
                  node,
                  maxWaitTime: FETCH_MAX_WAIT_MS,
                  topics: [
                    {
                      topicId: described.id,
                      partitions: leaderPartitions.map((partition) => ({
                        partition,
                        fetchOffset: next.get(partition)!,
                        partitionMaxBytes,
                        currentLeaderEpoch: -1,
                        lastFetchedEpoch: -1,
                      })),
                    },
                  ],
                });
              } catch (error) {
                if (findErrorBy(error as Error, 'apiId', 'OFFSET_OUT_OF_RANGE') === null) throw error;
                await skipToLogStart(leaderPartitions, error);
                return undefined;
              }
            });
            // Every fetch settles before a retry starts over, so no partition is read twice at once.
            const settled = await Promise.allSettled(fetches);
            const responses: FetchResponse[] = [];
            for (const outcome of settled) {
              if (outcome.status === 'rejected') throw outcome.reason;
              if (outcome.value !== undefined) responses.push(outcome.value);
            }
            return responses;
          } catch (error) {
            refreshMetadata = true;
            throw toPlatformaticKafkaError(error, `fetch ${topic}`);
          }
        }

        /** Retention or compaction moved the log start past the reader: what was before it is gone, go on from there. */
        async function skipToLogStart(leaderPartitions: readonly number[], cause: unknown): Promise<void> {
          const now = await logStarts();
          let moved = false;
          for (const partition of leaderPartitions) {
            const at = next.get(partition);
            const start = now[partition];
            if (at === undefined || start === undefined || start <= at) continue;
            moved = true;
            if (start >= end.get(partition)!) next.delete(partition);
            else next.set(partition, start);
          }
          if (!moved) {
            throw SHARED_ERRORS.create('SHARED_KAFKA_REQUEST_FAILED', `read to end: offset out of range on ${topic} with the log start behind the reader`, {
              cause,
              context: { topic, partitions: [...leaderPartitions] },
            });
          }
        }

        /** The next round's fetch; a failure is awaited (and thrown) where the round is taken. */
        const startRound = (): Promise<FetchResponse[]> | undefined => {
          if (next.size === 0) return undefined;
          const round = outage('read to end', fetchRound, stopped.signal);
          // Not awaited until this round's records are handed on: never an unhandled rejection meanwhile.
          round.catch(() => undefined);
          return round;
        };
        let count = 0;
        let pending = startRound();
        while (pending !== undefined) {
          const responses = await pending;
          // Where each partition goes on follows from the batches alone, so the next fetch goes
          // out before this round's records are handed on: the broker reads while the caller works.
          const rounds: IncomingRecord[][] = [];
          for (const response of responses) {
            for (const answer of response.responses) {
              for (const part of answer.partitions) {
                const from = next.get(part.partitionIndex);
                const until = end.get(part.partitionIndex);
                if (from === undefined || until === undefined) continue;
                const records: IncomingRecord[] = [];
                let after = from;
                for (const batch of part.records ?? []) {
                  const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
                  if (batchEnd > after) after = batchEnd;
                  // Transaction markers: offsets without records for the application.
                  if ((batch.attributes & CONTROL_BATCH) !== 0) continue;
                  collectBatch(topic, part.partitionIndex, batch, from, until, records);
                }
                if (records.length > 0) rounds.push(records);
                if (after >= until) next.delete(part.partitionIndex);
                else next.set(part.partitionIndex, after);
              }
            }
          }
          pending = startRound();
          for (const records of rounds) {
            count += records.length;
            await onRecords(records);
          }
        }
        return { records: count };
      } finally {
        stopped.abort();
        await consumer.close(true).catch(() => undefined);
      }
    },
  };
}
