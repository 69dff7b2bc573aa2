/**
 * Ingest: turns licensing exports and Windows events into canonical events. Pure code
 * over byte streams; the only I/O is reading a file in parseFile.
 */
export * from './types';
export { detectFormat } from './detect';
export { parseStream } from './parse-stream';
export { parseFile } from './parse-file';
export { INGEST_REJECTIONS, type IngestRejectionCode } from './rejection-codes';
export { toDeadLetter } from './dead-letter';
export { SnapshotState, diffSnapshot, type Snapshot, type SnapshotDiff } from './snapshot-differ';
export { LicenseTable } from './license-table';
export { ColumnBlock } from './column-block';
export {
  type ChosenSnapshotTime,
  type SnapshotTimeBounds,
  type SnapshotTimeSource,
  SnapshotTimeBoundsBuilder,
  chooseSnapshotTime,
  snapshotTimeFromName,
} from './snapshot-time';
export { LicenseEventList, diffTables, type TableSnapshot } from './table-differ';
export { INGEST_ERRORS } from './errors';
export { buildKeyPackEvents } from './keypack-events';
export { collectSnapshots, type CollectedSnapshots, type KeyPackSnapshot } from './collect-snapshots';
