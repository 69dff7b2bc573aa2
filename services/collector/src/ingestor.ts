import { toDeadLetter, type ParsedBatch, type ParsedItem } from '@calwatch/ingest';
import { buildDeadLetterOriginal, normalizeComputer, type CanonicalEvent, type DeadLetter, type EventSource, type KeyPackFact, type LicenseFact } from '@calwatch/model';
import { COLLECTOR_ERRORS } from './errors';
import { screenEvent } from './event-screen';
import type { EventPublisher } from './publisher';
import type { SnapshotCoordinator, SnapshotOutcome } from './snapshot-coordinator';

export type ItemKind = 'issued-license' | 'keypack' | 'event';

export interface RejectionSummary {
  code: string;
  reason: string;
  line: number | null;
  record: number | null;
  field: string | null;
}

export interface IngestRequest {
  /** The parsed input as parseStream yields it: non-empty batches of items, in input order. */
  batches: AsyncIterable<ParsedBatch>;
  /** Where the input came from (request or file); dead letters are keyed by it. */
  ref: string;
  /** Record kinds this input may hold; others are dead-lettered as COLLECTOR_WRONG_ENDPOINT. */
  accepts: ReadonlySet<ItemKind>;
  /** Snapshot time of export rows. */
  takenAt: string;
  /**
   * The license servers the sender may write (a scoped token); absent: any. The first
   * record of another server ends the request with COLLECTOR_FORBIDDEN before it is
   * published, and a snapshot is applied only at the end, so none of it is applied.
   */
  allowsServer?: (licenseServer: string) => boolean;
}

export interface IngestResult {
  /** Records read and taken: license / key-pack rows and valid events. */
  accepted: number;
  /** Records dead-lettered: parser rejections, invalid events, records of the wrong kind. */
  rejected: number;
  /** Events published: events as received plus those derived from snapshots. */
  events: number;
  /** License / key-pack rows read (accepted ones). */
  rows: number;
  /** The first rejection reasons (all of them are in the dead-letter topic). */
  rejections: RejectionSummary[];
  snapshots: SnapshotOutcome[];
}

export interface Ingestor {
  ingest(request: IngestRequest): Promise<IngestResult>;
}

export interface IngestorOptions {
  publisher: EventPublisher;
  snapshots: SnapshotCoordinator;
  /** Events + dead letters per publish while streaming. */
  batchRecords: number;
  maxReportedRejections: number;
  /** Event times further than this past `now` are dead-lettered (COLLECTOR_EVENT_TIME_AHEAD). */
  maxEventTimeSkewMs: number;
  now: () => Date;
  onRecords?: (outcome: 'accepted' | 'rejected', code: string, source: string, count: number) => void;
}

/**
 * Streams parsed items to Kafka (taken as the parser's batches, one chunk of input each):
 * events are published in batches as they are read (memory does not grow with the input),
 * rejections become dead letters in the same batches, and snapshot rows are gathered per
 * license server and applied at the end (a snapshot is the whole table). Throws when the
 * input itself fails (too large, broken gzip) or Kafka cannot take records; what was
 * published before stays published, and a re-send repeats the same event ids.
 */
export function createIngestor(options: IngestorOptions): Ingestor {
  const { publisher, snapshots } = options;
  const nowIso = (): string => options.now().toISOString();

  return {
    async ingest(request) {
      const result: IngestResult = { accepted: 0, rejected: 0, events: 0, rows: 0, rejections: [], snapshots: [] };
      let events: CanonicalEvent[] = [];
      let deadLetters: DeadLetter[] = [];
      const licenses = new Map<string, LicenseFact[]>();
      const keyPacks = new Map<string, KeyPackFact[]>();
      let rowRejections = 0;

      const report = (summary: RejectionSummary, source: string): void => {
        result.rejected += 1;
        options.onRecords?.('rejected', summary.code, source, 1);
        if (result.rejections.length < options.maxReportedRejections) result.rejections.push(summary);
      };
      const deadLetter = (letter: DeadLetter, source: string): void => {
        deadLetters.push(letter);
        const { line, record, field } = letter.location;
        report({ code: letter.code, reason: letter.reason, line, record, field }, source);
      };
      const flush = async (): Promise<void> => {
        if (events.length === 0 && deadLetters.length === 0) return;
        const batch = events;
        const letters = deadLetters;
        events = [];
        deadLetters = [];
        await publisher.publish(batch, letters);
        result.events += batch.length;
      };

      const allows = request.allowsServer;
      const forbid = (licenseServer: string): never => {
        throw COLLECTOR_ERRORS.create('COLLECTOR_FORBIDDEN', `this token may not post data of license server ${licenseServer}`, {
          context: { licenseServer },
        });
      };

      for await (const batch of request.batches) {
        for (const item of batch) {
          switch (item.kind) {
            case 'rejected': {
              if (item.rejection.record !== null) rowRejections += 1;
              deadLetter(toDeadLetter(item.rejection, nowIso()), 'parser');
              break;
            }
            case 'event': {
              if (!request.accepts.has('event')) {
                deadLetter(wrongEndpoint(item, request.ref, nowIso()), item.event.source?.kind ?? 'unknown');
                break;
              }
              const screened = screenEvent(item.event, { ref: request.ref, record: item.record, at: nowIso(), maxEventTimeSkewMs: options.maxEventTimeSkewMs });
              if (screened.ok) {
                if (allows !== undefined && !allows(screened.event.licenseServer)) forbid(screened.event.licenseServer);
                events.push(screened.event);
                result.accepted += 1;
                options.onRecords?.('accepted', 'OK', screened.event.source.kind, 1);
              } else {
                deadLetter(screened.deadLetter, 'canonical-schema');
              }
              break;
            }
            case 'issued-license':
            case 'keypack': {
              if (!request.accepts.has(item.kind)) {
                deadLetter(wrongEndpoint(item, request.ref, nowIso()), item.kind);
                break;
              }
              const server = normalizeComputer(item.licenseServer);
              if (allows !== undefined && !allows(server)) forbid(server);
              if (item.kind === 'issued-license') append(licenses, server, item.license);
              else append(keyPacks, server, item.keyPack);
              result.accepted += 1;
              result.rows += 1;
              options.onRecords?.('accepted', 'OK', item.kind, 1);
              break;
            }
          }
          // Checked per item, not per batch: a publish holds at most batchRecords records.
          if (events.length + deadLetters.length >= options.batchRecords) await flush();
        }
      }
      await flush();

      const partial = rowRejections > 0;
      for (const [licenseServer, list] of licenses) {
        const source: EventSource = { kind: 'wmi-issued-licenses', ref: request.ref };
        result.snapshots.push(await snapshots.applyIssued({ licenseServer, takenAt: request.takenAt, licenses: list, source }, { partial }));
      }
      for (const [licenseServer, list] of keyPacks) {
        const source: EventSource = { kind: 'wmi-keypacks', ref: request.ref };
        result.snapshots.push(await snapshots.applyKeyPacks({ licenseServer, takenAt: request.takenAt, keyPacks: list, source }));
      }
      for (const outcome of result.snapshots) {
        result.events += outcome.events;
        result.rejected += outcome.invalid;
      }
      return result;
    },
  };
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

const ENDPOINT_OF: Record<Exclude<ParsedItem['kind'], 'rejected'>, string> = {
  'issued-license': 'POST /v1/snapshots/issued-licenses',
  keypack: 'POST /v1/snapshots/keypacks',
  event: 'POST /v1/events or /v1/client-stores',
};

function wrongEndpoint(item: Exclude<ParsedItem, { kind: 'rejected' }>, ref: string, at: string): DeadLetter {
  const { kind, record, ...content } = item;
  return {
    schemaVersion: 1,
    at,
    code: 'COLLECTOR_WRONG_ENDPOINT',
    reason: `a ${kind} record is not accepted here; send it to ${ENDPOINT_OF[kind]}`,
    location: { ref, line: null, record, field: null },
    issues: [],
    ...buildDeadLetterOriginal(JSON.stringify(content)),
  };
}
