export { runCollector, type CollectorIo } from './main';
export { CollectorConfigSchema, CollectorEnvSchema, loadCollectorConfig, type CollectorConfig } from './config';
export { COLLECTOR_ERRORS, type CollectorErrorCode } from './errors';
export { createCollectorService, type CollectorService, type CollectorServiceOptions, type CollectorState } from './collector-service';
export { CollectorServerState } from './server-state';
export { HEADER_ERROR_CODE, HEADER_EVENT_TYPE, HEADER_SCHEMA_VERSION, HEADER_SOURCE } from './kafka-records';
export type { EventPublisher } from './publisher';
// The collector's ingest path without its HTTP front, for in-process replays (calwatch replay).
export { createIngestor, type Ingestor, type IngestRequest, type IngestResult, type ItemKind, type RejectionSummary } from './ingestor';
export { createSnapshotCoordinator, type SnapshotCoordinator, type SnapshotOutcome } from './snapshot-coordinator';
export { createKafkaPublisher } from './kafka-publisher';
export { screenEvents } from './event-screen';
export { restoreSnapshotState, snapshotStateRestoreRetry } from './state-restore';
export { INGEST_ROUTES } from './http-app';
