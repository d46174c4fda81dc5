/**
 * The idempotency module (docs/design.md, "Idempotency"): the PostgreSQL-backed {@link IdempotencyStore} at
 * DATABASE_URL (migrated on start, expired records purged every 10 minutes, closed on shutdown) and the HTTP
 * {@link IdempotencyInterceptor}. Global, so that feature controllers can use `@Idempotent()`.
 */
import { Global, Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from '@eventcast/platform';
import type { CommandApiConfig } from '../core/config.js';
import { CONFIG, LOGGER } from '../core/tokens.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IdempotencyStore } from './idempotency-store.js';

/** Provides and runs the idempotency records. */
@Global()
@Module({
  providers: [
    { provide: IdempotencyStore, inject: [CONFIG], useFactory: (config: CommandApiConfig) => new IdempotencyStore(config.DATABASE_URL) },
    IdempotencyInterceptor,
  ],
  exports: [IdempotencyStore, IdempotencyInterceptor],
})
export class IdempotencyModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly records: IdempotencyStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Creates the table before the app serves requests. @throws when PostgreSQL is unreachable. */
  async onModuleInit(): Promise<void> {
    await this.records.migrate();
    this.records.startPurging(600_000, (err) => this.logger.warn({ err }, 'purging idempotency records failed'));
  }

  /** Closes the pool. */
  async onApplicationShutdown(): Promise<void> {
    await this.records.close();
  }
}
