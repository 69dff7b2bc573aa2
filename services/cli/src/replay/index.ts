/** What tests and the demo use of the replay machinery (the command lives in commands/replay.ts). */
export { readLatestFindings, summariseFindings, keepLatest, type FindingsSummary } from './findings';
export { waitUntilDrained, readDrainState, type DrainTarget, type DrainOptions } from './drain';
export { REPLAY_ERRORS, type ReplayErrorCode } from './errors';
export { ReplayConfigSchema, ReplayEnvSchema, loadReplayConfig } from './config';
