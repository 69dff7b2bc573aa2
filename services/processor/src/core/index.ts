export { CoreConfig, type CoreConfigInput, parseCoreConfig } from './config';
export { CORE_ERRORS, type CoreErrorCode } from './errors';
export { isTooLate } from './lateness';
export {
  createPipeline,
  decodePipelineSnapshot,
  PipelineSnapshot,
  type ApplyOutcome,
  type Pipeline,
  type PipelineSinks,
  type PipelineStats,
  type PipelineOptions,
  type FailedStep,
  type StageName,
  type StageStates,
  type DeferredStageState,
  type DeferredStates,
  type SingleUseKeys,
} from './pipeline';
export { createByHwidStage, decodeByHwidState, ByHwidState, type ByHwidStage } from './by-hwid';
export { createByComputerStage, decodeByComputerState, ByComputerState, type ByComputerStage } from './by-computer';
export { createByServerStage, decodeByServerState, ByServerState, type ByServerStage } from './by-server';
export {
  ByComputerMessage,
  ByHwidMessage,
  ByServerMessage,
  Candidate,
  FindingDraft,
  HwidContext,
  LicenseFactMessage,
  NameObservation,
  Tick,
  computerKey,
  type StageOptions,
  type StageOutput,
  type StageResult,
} from './messages';
export { LicenseRecord } from './license-record';
export { buildFindingId } from './finding-track';
export { buildRevokePlan, revokeCap, type PlanBatch, type PlanFinding, type ProductQuota } from './rules';
export { productKeyOf, isPerDevicePool } from './products';
export type { Decoded } from './state-codec';
export { compareRecords as compareLicenseRecords } from './chain';
export { recordKey as licenseRecordKey } from './license-record';
export { compareDroppedCals, droppedCalKey } from './dropped-cals';
