/**
 * `GET /metrics` for the NestJS services (command-api, query-api): the process's Prometheus registry
 * ({@link renderMetrics}) in the text exposition format 0.0.4 (README, "Observability"). Exported as the subpath
 * `@eventcast/platform/nest-metrics`, so the processes that import `@eventcast/platform` without Nest (ingest's
 * workers, realtime, tools) never load `@nestjs/common`.
 */
import { Controller, Get, Header, Headers, Res, UnauthorizedException } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import {
  METRICS_CONTENT_TYPE,
  METRICS_UNAUTHORIZED_MESSAGE,
  METRICS_WWW_AUTHENTICATE,
  metricsAccessAllowed,
  metricsTokenFromEnv,
  renderMetrics,
} from './metrics.js';

/**
 * The response method used here, structurally: `header(name, value)` is both Express's (`res.set`) and Fastify's
 * (`reply.header`); query-api runs on Express, command-api on Fastify.
 */
interface HeaderResponse {
  header(name: string, value: string): unknown;
}

/**
 * Prometheus scrape endpoint; register it in a Nest module's `controllers`. Responds 200 with
 * `Content-Type: text/plain; version=0.0.4; charset=utf-8` ({@link METRICS_CONTENT_TYPE}) and `Cache-Control: no-store`;
 * the body holds whatever the service registered (HTTP, events appended/published, projector, projection lag) plus the
 * process defaults. When `METRICS_TOKEN` is set (read when the controller is created), a scrape without
 * `Authorization: Bearer <METRICS_TOKEN>` gets 401 with `WWW-Authenticate: Bearer realm="metrics"`.
 */
@ApiTags('health')
@Controller()
export class MetricsController {
  private readonly token = metricsTokenFromEnv();

  /**
   * The process registry rendered as Prometheus text format 0.0.4; runs the registry's `collect` callbacks.
   * @throws {UnauthorizedException} (401) when a token is configured and the request does not carry it.
   */
  @Get('metrics')
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiProduces('text/plain')
  @ApiBearerAuth()
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'METRICS_TOKEN is set and the request lacks `Authorization: Bearer <METRICS_TOKEN>`' })
  metrics(@Headers('authorization') authorization: string | undefined, @Res({ passthrough: true }) res: HeaderResponse): Promise<string> {
    if (!metricsAccessAllowed(authorization, this.token)) {
      res.header('WWW-Authenticate', METRICS_WWW_AUTHENTICATE);
      res.header('Content-Type', 'application/json; charset=utf-8');
      throw new UnauthorizedException(METRICS_UNAUTHORIZED_MESSAGE);
    }
    return renderMetrics();
  }
}
