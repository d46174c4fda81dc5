/**
 * Process entry point of the realtime edge: reads configuration (docs/contracts.md: `REALTIME_PORT`, `NATS_URL`,
 * `REDIS_URL`, `HOST`, `REALTIME_EDGE_ID` — this edge's id in presence keys and its NATS connection name
 * `realtime-<id>`, default a random UUID), starts the server and shuts it down gracefully on SIGTERM/SIGINT (exit code 0; 1 when
 * start-up or shutdown fails; a second signal forces exit).
 */
import { createLogger, loadConfig } from '@eventcast/platform';
import { startRealtime } from './server.js';

const logger = createLogger('realtime');

/** Starts the edge and wires the signals. */
async function main(): Promise<void> {
  const config = loadConfig();
  const edgeId = process.env['REALTIME_EDGE_ID']?.trim();
  const server = await startRealtime({ config, logger, ...(edgeId ? { edgeId } : {}) });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown timed out after 10 s');
      process.exit(1);
    }, 10_000);
    force.unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  logger.fatal({ err }, 'realtime failed to start');
  process.exit(1);
});
