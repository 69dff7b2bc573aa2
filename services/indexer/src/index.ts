export { runIndexer } from './main';
export {
  IndexerConfigSchema,
  IndexerEnvSchema,
  EsSetupConfigSchema,
  EsSetupEnvSchema,
  loadIndexerConfig,
  loadEsSetupConfig,
  KibanaConfigSchema,
  KibanaEnvSchema,
  loadKibanaConfig,
  type KibanaConfig,
  type IndexerConfig,
  type EsSetupConfig,
  type IndexInterval,
} from './config';
export { INDEXER_ERRORS, type IndexerErrorCode } from './errors';
export { buildIndexNames, INDEX_SCHEMA, TEMPLATE_VERSION, type IndexNames } from './index-names';
export {
  buildTemplateSet,
  buildEnrichedMappings,
  buildFindingsMappings,
  listMappedFields,
  DEFAULT_REFRESH_INTERVAL,
  type IndexLayoutSettings,
} from './mappings';
export { buildEnrichedDocument, buildFindingDocument, buildFindingVersion } from './documents';
export {
  installElasticsearchSetup,
  checkElasticsearchSetup,
  probeCapabilities,
  describeDegradations,
  type SetupReport,
  type SetupOptions,
  type ElasticsearchCapabilities,
} from './es-setup';
export {
  buildCalwatchRoles,
  buildRolesYml,
  installElasticsearchSecurity,
  READER_ROLE,
  WRITER_ROLE,
  type CalwatchUser,
  type RoleDescriptor,
  type SecuritySetupReport,
} from './es-security';
export { suspendRefresh, restoreRefresh, withRefreshSuspended, type RefreshSuspension } from './refresh';
export { createIndexerService, type IndexerService, type IndexerServiceOptions, type IndexerStats } from './indexer-service';
export { createIndexerMetrics, type IndexerMetrics } from './metrics';
export type { BatchResult } from './batch-indexer';
export { buildSavedObjects, buildSavedObjectIds, toNdjson, SAVED_OBJECTS_FILE, KIBANA_TARGET_VERSIONS, type SavedObject } from './kibana/saved-objects';
export { importSavedObjects, buildImportRequest, type KibanaConnection, type KibanaImportResult } from './kibana/kibana-import';
