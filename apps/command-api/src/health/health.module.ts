import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';

/** Liveness/readiness probes. */
@Module({ controllers: [HealthController] })
export class HealthModule {}
