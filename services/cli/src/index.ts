export { COMMANDS } from './commands/index';
export type { Command, CommandIo } from './commands/registry';
export * from '@calwatch/stack';
export * from './replay/index';
export { resolveServiceEnv } from './service-env';
export { createPipelineServices, type PipelineServices, type PipelineServicesOptions } from './replay/pipeline-services';
