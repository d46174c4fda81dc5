export { bootstrapCommandApi, type BootstrapOptions, type CommandApi } from './bootstrap.js';
export type { CommandApiConfig } from './core/config.js';
export { handleCommand, loadAggregate, type CommandOutcome } from './core/handle-command.js';
