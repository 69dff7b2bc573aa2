import type { CanonicalEvent, EventSource, KeyPackFact, LicenseFact } from '@calwatch/model';
import type { Snapshot } from './snapshot-differ';
import type { ParsedBatch, Rejection } from './types';

export interface KeyPackSnapshot {
  licenseServer: string;
  takenAt: string;
  keyPacks: KeyPackFact[];
  source: EventSource;
}

/** A parsed export, grouped: one snapshot per license server found in it. */
export interface CollectedSnapshots {
  issued: Snapshot[];
  keyPacks: KeyPackSnapshot[];
  /** Items that were events already (an export can hold only rows, but nothing is dropped). */
  events: CanonicalEvent[];
  rejections: Rejection[];
  /** Rows read (parsed or rejected); with `rejections` it tells how complete a snapshot is. */
  records: number;
}

/**
 * Groups the parsed rows of a snapshot export (parseStream's batches) by license server,
 * in order of first appearance. A snapshot is the whole table, so it is held in memory; the caller decides
 * whether a snapshot with rejected rows is complete enough to diff (a missing row would
 * otherwise read as a returned license).
 */
export async function collectSnapshots(
  batches: AsyncIterable<ParsedBatch> | Iterable<ParsedBatch>,
  options: { takenAt: string; source: EventSource },
): Promise<CollectedSnapshots> {
  const licenses = new Map<string, LicenseFact[]>();
  const keyPacks = new Map<string, KeyPackFact[]>();
  const events: CanonicalEvent[] = [];
  const rejections: Rejection[] = [];
  let records = 0;
  for await (const batch of batches) {
    for (const item of batch) {
      switch (item.kind) {
        case 'issued-license':
          records += 1;
          append(licenses, item.licenseServer, item.license);
          break;
        case 'keypack':
          records += 1;
          append(keyPacks, item.licenseServer, item.keyPack);
          break;
        case 'event':
          events.push(item.event);
          break;
        case 'rejected':
          if (item.rejection.record !== null) records += 1;
          rejections.push(item.rejection);
          break;
      }
    }
  }
  const { takenAt, source } = options;
  return {
    issued: [...licenses].map(([licenseServer, list]) => ({ licenseServer, takenAt, licenses: list, source })),
    keyPacks: [...keyPacks].map(([licenseServer, list]) => ({ licenseServer, takenAt, keyPacks: list, source })),
    events,
    rejections,
    records,
  };
}

function append<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
