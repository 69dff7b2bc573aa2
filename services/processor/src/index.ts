/**
 * @calwatch/processor: the detection core (pure keyed stages, the in-process pipeline) and
 * the streaming runtime that runs it on Kafka. `@calwatch/processor/core` is the core alone:
 * `calwatch analyze` imports that, so an offline run never loads the Kafka clients (about half
 * of its start-up).
 */
export * from './core/index';
export { runProcessor } from './main';
export { ProcessorConfigSchema, ProcessorEnvSchema, loadProcessorConfig, resolveDetectionConfig, type ProcessorConfig } from './config';
export { PROCESSOR_ERRORS, type ProcessorErrorCode } from './errors';
export { createProcessorService, type ProcessorService, type ProcessorServiceOptions, type ProcessorState } from './processor-service';
export type { RuntimeMetrics } from './runtime/metrics';
export type { ProcessorMetrics } from './processor-metrics';
export * from './core/min-heap';
