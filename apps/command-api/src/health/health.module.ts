import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { MetricsController } from '@eventcast/platform/nest-metrics';

/** Liveness/readiness probes and the Prometheus scrape endpoint. */
@Module({ controllers: [HealthController, MetricsController] })
export class HealthModule {}
