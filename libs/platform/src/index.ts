export * from './stream-key.js';
export * from './logger.js';
export * from './config.js';
export * from './test-db.js';
export * from './nest-logger.js';
export * from './metrics.js';
export * from './api-token.js';
export * from './private-address.js';
