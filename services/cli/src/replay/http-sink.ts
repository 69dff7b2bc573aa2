import { readFile } from 'node:fs/promises';
import { CalwatchError, isCalwatchError } from '@calwatch/model';
import { retry, type Logger } from '@calwatch/runtime';
import { REPLAY_ERRORS } from './errors';
import type { ReplayInput } from './inputs';
import { countRejection, type ItemEntry, type RejectionCount, type ReplaySink, type SendResult } from './sink';
import type { ReadOptions } from './sources';

export interface HttpSinkOptions {
  /** Base URL of the collector, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
  logger: Logger;
  /** For rows that name no license server (X-Calwatch-License-Server). */
  licenseServer?: string;
  /** How long 429/503/unreachable is retried before the replay stops (resumable). */
  maxRetryMs?: number;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** The collector's 202 body (and the summary that comes with a 400 on unreadable input). */
interface IngestSummary {
  accepted?: number;
  rejected?: number;
  events?: number;
  stale?: boolean;
  rejections?: Array<{ code: string; reason: string }>;
  error?: { code: string; message: string };
}

/** Answers that still mean "read and dead-lettered": nothing readable, or an export without rows. */
const SETTLED_400 = new Set(['COLLECTOR_UNPARSEABLE', 'COLLECTOR_EMPTY_SNAPSHOT']);

function retryAfterOf(error: unknown): number | undefined {
  const ms = isCalwatchError(error) ? error.context['retryAfterMs'] : undefined;
  return typeof ms === 'number' ? ms : undefined;
}

/**
 * Sends a replay through a running collector's HTTP API, as any client would: snapshot
 * exports are posted as they are (the collector parses and diffs them); events read from
 * files are posted as canonical NDJSON in replay order, and records the parser rejected
 * are posted as their original text so the collector dead-letters them itself.
 */
export function createHttpSink(options: HttpSinkOptions): ReplaySink {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const logger = options.logger.child({ component: 'replay-http' });

  async function postOnce(path: string, body: Buffer, headers: Record<string, string>): Promise<IngestSummary> {
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-length': String(body.length), ...headers },
        // Not aborted by the signal: the request in flight finishes, so its answer is known.
        body,
      });
    } catch (error) {
      throw REPLAY_ERRORS.create('REPLAY_COLLECTOR_UNAVAILABLE', `cannot reach ${base}: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    let json: IngestSummary = {};
    try {
      json = JSON.parse(text) as IngestSummary;
    } catch {
      json = {};
    }
    if (response.status === 202) return json;
    const code = json.error?.code ?? `HTTP_${response.status}`;
    if (response.status === 400 && SETTLED_400.has(code)) return json;
    if (response.status === 429 || response.status === 503 || response.status >= 500) {
      const seconds = Number(response.headers.get('retry-after'));
      throw REPLAY_ERRORS.create('REPLAY_COLLECTOR_UNAVAILABLE', `${path}: ${response.status} ${code}: ${json.error?.message ?? text.slice(0, 200)}`, {
        context: { status: response.status, code, ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterMs: seconds * 1000 } : {}) },
      });
    }
    throw REPLAY_ERRORS.create('REPLAY_COLLECTOR_REFUSED', `${path}: ${response.status} ${code}: ${json.error?.message ?? text.slice(0, 200)}`, {
      context: { status: response.status, code },
    });
  }

  async function post(path: string, body: Buffer, headers: Record<string, string>): Promise<IngestSummary> {
    try {
      return await retry(() => postOnce(path, body, headers), {
        retries: Number.POSITIVE_INFINITY,
        minDelayMs: 250,
        maxDelayMs: 10_000,
        maxElapsedMs: options.maxRetryMs ?? 120_000,
        retryAfterMs: retryAfterOf,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs, path }, 'collector busy or unreachable; retrying'),
      });
    } catch (error) {
      if (isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED') && error.cause instanceof CalwatchError) throw error.cause;
      throw error;
    }
  }

  function tallyResponse(summary: IngestSummary, tally: Map<string, RejectionCount>): void {
    const listed = summary.rejections ?? [];
    for (const r of listed) countRejection(tally, r.code, r.reason);
    const unlisted = (summary.rejected ?? 0) - listed.length;
    if (unlisted > 0) countRejection(tally, 'COLLECTOR_UNLISTED', 'rejections beyond what the collector lists in a response; all are in the dead-letter topic', unlisted);
  }

  return {
    target: base,

    async start() {
      // Fails early on a wrong URL or token instead of at the first batch.
      let response: Response;
      try {
        response = await doFetch(`${base}/readyz`, options.signal === undefined ? {} : { signal: options.signal });
      } catch (error) {
        throw REPLAY_ERRORS.create('REPLAY_COLLECTOR_UNAVAILABLE', `cannot reach the collector at ${base}: ${(error as Error).message}`, { cause: error });
      }
      await response.text();
      if (response.status !== 200) logger.warn({ status: response.status }, 'collector not ready yet; sends are retried');
    },

    async sendItems(entries: readonly ItemEntry[]): Promise<SendResult> {
      const tally = new Map<string, RejectionCount>();
      const events: string[] = [];
      const rejected = new Map<ReplayInput, Buffer[]>();
      for (const { item, input } of entries) {
        if (item.kind === 'event') events.push(JSON.stringify(item.event));
        else if (item.kind === 'rejected') {
          countRejection(tally, item.rejection.code, item.rejection.reason);
          // An empty original (a broken gzip stream) cannot be posted; it is counted here only.
          if (item.rejection.original.length > 0) rejected.set(input, [...(rejected.get(input) ?? []), item.rejection.original]);
        }
      }
      let accepted = 0;
      let published = 0;
      let collectorRejected = 0;
      if (events.length > 0) {
        const summary = await post('/v1/events', Buffer.from(events.join('\n') + '\n'), { 'content-type': 'application/x-ndjson' });
        accepted += summary.accepted ?? 0;
        published += summary.events ?? 0;
        collectorRejected += summary.rejected ?? 0;
        tallyResponse(summary, tally);
      }
      for (const [input, originals] of rejected) {
        const xml = input.container === 'xml';
        const body = Buffer.concat(originals.flatMap((o) => [o, Buffer.from(xml ? '\r\n' : '\n')]));
        await post(input.format === 'client-store' ? '/v1/client-stores' : '/v1/events', body, {
          'content-type': xml ? 'application/xml' : 'application/x-ndjson',
        });
      }
      const localRejected = entries.length - events.length;
      return { records: entries.length, accepted, rejected: localRejected + collectorRejected, events: published, stale: false, rejections: [...tally.values()] };
    },

    async sendSnapshot(input: ReplayInput, read: ReadOptions): Promise<SendResult> {
      const body = await readFile(input.path);
      read.onBytes?.(body.length);
      const path = input.role === 'issued-snapshot' ? '/v1/snapshots/issued-licenses' : '/v1/snapshots/keypacks';
      const summary = await post(path, body, {
        // A gzip file goes as it is: the collector inflates bodies that start with the gzip magic.
        'content-type': input.container === 'json' ? 'application/json' : 'text/csv',
        'x-calwatch-snapshot-time': input.snapshotTime,
        ...(options.licenseServer === undefined ? {} : { 'x-calwatch-license-server': options.licenseServer }),
      });
      const tally = new Map<string, RejectionCount>();
      tallyResponse(summary, tally);
      let rejectedCount = summary.rejected ?? 0;
      if (summary.error?.code === 'COLLECTOR_EMPTY_SNAPSHOT') {
        countRejection(tally, 'COLLECTOR_EMPTY_SNAPSHOT', `${input.display}: ${summary.error.message}`);
        rejectedCount += 1;
      }
      return {
        records: (summary.accepted ?? 0) + (summary.rejected ?? 0),
        accepted: summary.accepted ?? 0,
        rejected: rejectedCount,
        events: summary.events ?? 0,
        stale: summary.stale === true,
        rejections: [...tally.values()],
      };
    },

    async close() {},
  };
}
