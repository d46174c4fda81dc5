/**
 * Entry point of the ingest process: `node apps/ingest/dist/main.js`. Configuration from the environment (see
 * config.ts and docs/contracts.md). Exits 0 after a graceful stop on SIGTERM/SIGINT, 1 on a startup failure.
 */
import { createLogger } from '@eventcast/platform';
import { startIngest } from './app.js';
import { loadIngestConfig } from './config.js';

const log = createLogger('ingest');

async function main(): Promise<void> {
  const cfg = loadIngestConfig();
  const node = await startIngest(cfg, log);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutdown requested');
    const force = setTimeout(() => {
      log.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    node.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'ingest failed to start');
  process.exit(1);
});
