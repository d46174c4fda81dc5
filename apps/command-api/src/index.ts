export { bootstrapCommandApi, type BootstrapOptions, type CommandApi } from './bootstrap.js';
export type { CommandApiConfig } from './core/config.js';
export { AggregateService, type Aggregate, type AggregateHistory, type CommandOutcome } from './core/aggregate-service.js';
