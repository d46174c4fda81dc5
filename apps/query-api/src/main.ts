/**
 * query-api process entry: configuration from the environment (see config.ts), then {@link bootstrapQueryApi}.
 * SIGTERM/SIGINT close it gracefully (Nest shutdown hooks).
 */
import { createLogger } from '@eventcast/platform';
import { bootstrapQueryApi } from './bootstrap.js';
import { queryApiConfigFromEnv } from './config.js';

const logger = createLogger('query-api');
try {
  await bootstrapQueryApi(queryApiConfigFromEnv(), logger);
} catch (err) {
  logger.fatal({ err }, 'query-api failed to start');
  process.exitCode = 1;
}
