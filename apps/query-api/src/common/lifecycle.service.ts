/**
 * Graceful shutdown order (SIGTERM via `enableShutdownHooks`, or `close()`): stop the consumer and let the
 * in-flight transaction commit and ack (before the HTTP server closes), then close NATS, the store and the pool.
 */
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from './tokens.js';

/** Nest hooks around {@link QueryApiRuntime}. */
@Injectable()
export class LifecycleService implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(@Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime) {}

  /** Stops the JetStream consumer (in-flight message finishes). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.stopConsumer();
  }

  /** Closes NATS, the event store and the database pool. */
  async onApplicationShutdown(): Promise<void> {
    await this.runtime.closeResources();
  }
}
