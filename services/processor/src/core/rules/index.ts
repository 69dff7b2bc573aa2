/**
 * The detection rules, one file each. A rule is a pure function of a small, readonly view
 * that its stage builds from its state, plus the slice of the config it reads:
 * `derive<Rule>(view, config)` returns the derived finding (or null) and `resolve<Rule>`
 * the texts of a resolution. A rule never sees the whole state, changes it, or does I/O.
 *
 * | Rule            | Stage       | View                 |
 * |-----------------|-------------|----------------------|
 * | cloned-image    | by-hwid     | ClonedImageView      |
 * | corrupted-store | by-computer | CorruptedStoreView   |
 * | hwid-churn      | by-computer | HwidChurnView        |
 * | rebuilt-device  | by-computer | RebuiltDeviceView    |
 * | duplicate-name  | by-computer | DuplicateNameView    |
 * | pool-exhaustion | by-server   | PoolExhaustionView   |
 * | leak-rate-spike | by-server   | LeakRateSpikeView    |
 * | revoke plan     | by-server   | PlanInput            |
 *
 * Which name rule wins when several hold, and the tracks, timelines and publication,
 * stay with the stages.
 */
export { type ClonedImageConfig, type ClonedImageView, deriveClonedImage, resolveClonedImage } from './cloned-image';
export { type CorruptedStoreConfig, type CorruptedStoreView, type StoreInventory, deriveCorruptedStore, resolveCorruptedStore } from './corrupted-store';
export { type HwidChurnConfig, type HwidChurnView, deriveHwidChurn, resolveHwidChurn } from './hwid-churn';
export { type RebuiltDeviceConfig, type RebuiltDeviceView, deriveRebuiltDevice, resolveRebuiltDevice } from './rebuilt-device';
export { type DuplicateNameView, deriveDuplicateName, resolveDuplicateName } from './duplicate-name';
export { type NameFacts } from './name-view';
export {
  type PoolAssessment,
  type PoolExhaustionConfig,
  type PoolExhaustionView,
  assessPool,
  derivePoolExhaustion,
  lowThreshold,
  resolvePoolExhaustion,
} from './pool-exhaustion';
export {
  type LeakRateSpikeConfig,
  type LeakRateSpikeView,
  type SpikeDay,
  deriveLeakRateSpike,
  measureDay,
  resolveLeakRateSpike,
  spikeClearsAt,
  spikeDays,
} from './leak-rate-spike';
export {
  type CandidatesByLicenseId,
  type PlanBatch,
  type PlanCandidate,
  type PlanFinding,
  type PlanInput,
  type ProductQuota,
  type ProductTally,
  type RevokePlan,
  buildRevokePlan,
  candidatesByLicenseId,
  createProductTally,
  revokeCap,
} from './revoke-plan';
