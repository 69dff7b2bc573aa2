export { COMMANDS } from './commands/index';
export type { Command, CommandIo } from './commands/registry';
