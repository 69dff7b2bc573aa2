export { COMMANDS } from './commands/index';
export type { Command, CommandIo } from './commands/registry';
export * from './stack/index';
export * from './replay/index';
