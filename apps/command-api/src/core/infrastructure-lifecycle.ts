/**
 * Stops the infrastructure in order on application shutdown (after Nest closed HTTP and the NATS microservice, so no
 * new command can append): typically the event publisher (drains what was appended), then the event store.
 */
import type { OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from '@eventcast/platform';

/** Something with an async stop, and a name for the log. */
export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

/** Default bound of one stop, in milliseconds. */
export const STOP_TIMEOUT_MS = 10_000;

/**
 * Nest lifecycle hook running {@link Stoppable}s one after another. A stop that fails or takes longer than
 * `timeoutMs` is logged and the rest still run, so SIGTERM always ends the process.
 */
export class InfrastructureLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly items: readonly Stoppable[],
    private readonly logger: Logger,
    private readonly timeoutMs = STOP_TIMEOUT_MS,
  ) {}

  /** Called by Nest once HTTP and microservices are closed. */
  async onApplicationShutdown(signal?: string): Promise<void> {
    for (const item of this.items) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
      });
      try {
        const result = await Promise.race([item.stop().then(() => 'stopped' as const), timeout]);
        if (result === 'timeout') this.logger.error({ component: item.name, timeoutMs: this.timeoutMs }, 'stop timed out');
        else this.logger.info({ component: item.name, signal }, 'stopped');
      } catch (err) {
        this.logger.error({ err, component: item.name }, 'stop failed');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
