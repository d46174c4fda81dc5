/**
 * `GET /metrics` for the NestJS services (command-api, query-api): the process's Prometheus registry
 * ({@link renderMetrics}) in the text exposition format 0.0.4 (README, "Observability"). Exported as the subpath
 * `@eventcast/platform/nest-metrics`, so the processes that import `@eventcast/platform` without Nest (ingest's
 * workers, realtime, tools) never load `@nestjs/common`.
 */
import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';

/**
 * Prometheus scrape endpoint; register it in a Nest module's `controllers`. Responds 200 with
 * `Content-Type: text/plain; version=0.0.4; charset=utf-8` ({@link METRICS_CONTENT_TYPE}) and `Cache-Control: no-store`;
 * the body holds whatever the service registered (HTTP, events appended/published, projector, projection lag) plus the
 * process defaults.
 */
@ApiTags('health')
@Controller()
export class MetricsController {
  /** The process registry rendered as Prometheus text format 0.0.4; runs the registry's `collect` callbacks. */
  @Get('metrics')
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  metrics(): Promise<string> {
    return renderMetrics();
  }
}
