/**
 * Fleet simulator: a seeded model of an RD license server and the machines that leak its
 * per-device CALs, streamed as canonical events and snapshots, and written as the files a
 * real server would give (see docs/simulator.md).
 */
export {
  FleetConfig,
  FleetMix,
  DEFAULT_MIX_TEXT,
  buildFleetConfig,
  parseMix,
  formatMix,
  parseDurationMs,
  mixMachineCount,
  type FleetConfigInput,
} from './config';
export { SIMULATOR_ERRORS } from './errors';
export { type ScenarioKind, type DeviceKind } from './fleet';
export { RULES as LICENSING_RULES, KEY_PACK_IDS, PRODUCT as SIMULATED_PRODUCT } from './license-server';
export {
  simulateFleet,
  snapshotEvents,
  type FleetSimulation,
  type FleetSnapshot,
  type SimulationItem,
  type ClientStore,
} from './simulate';
export { GroundTruth, TruthScenario, FINDING_KIND_OF } from './truth';
export {
  writeFleet,
  fileStamp,
  OUTPUT_FORMATS,
  DEFAULT_OUTPUT_FORMATS,
  type OutputFormat,
  type WriteFleetOptions,
  type WriteFleetResult,
} from './write-fleet';
export { toDmtf, toEnUsDateTime, csvField } from './format-wmi';
export { writeScaleExport, scaleExportKindOf, SCALE_EXPORT_TAKEN_AT, type ScaleExportKind, type ScaleExportOptions } from './scale-export';
