/**
 * `GET /health` (liveness) and `GET /ready` (also `/health/ready`): database reachable, the projector consuming (the
 * JetStream consumer attached on a connected NATS, or — NATS away — catching up from the event store), and no
 * projection further behind the event store head than the readiness limits (`READINESS_MAX_LAG_EVENTS`,
 * `READINESS_MAX_LAG_SECONDS`), so a load balancer stops sending reads to a replica serving stale read models.
 * Liveness never depends on the lag.
 */
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { sql } from 'kysely';
import { ErrorDto } from '../common/error.dto.js';
import { SkipReadPosition } from '../common/read-your-writes.interceptor.js';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from '../common/tokens.js';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';
import { DEFAULT_LAG_THRESHOLDS, lagProblems } from '../observability/projection-lag.js';

/** `{ status, role }` of the probes. */
export class StatusDto {
  @ApiProperty({ example: 'ok' }) status!: string;
  /** This process's projector role: `leader` applies the projections, `follower` serves reads and waits for the lock. */
  @ApiProperty({ enum: ['leader', 'follower'], example: 'leader' }) role!: 'leader' | 'follower';
}

/** Liveness and readiness probes. */
@ApiTags('health')
@SkipReadPosition()
@Controller()
export class HealthController {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime,
  ) {}

  /** Always `{ status: 'ok', role }` while the process serves HTTP. */
  @Get('health')
  @ApiOkResponse({ type: StatusDto })
  health(): StatusDto {
    return { status: 'ok', role: this.runtime.projectorRole() };
  }

  /**
   * `{ status: 'ready', role }` when a `SELECT 1` succeeds within 2 s, the projector consumes (JetStream or the store)
   * — or this process is a follower, the leader being another query-api — and every projection is within the lag limits.
   * @throws {ServiceUnavailableException} (503) naming what is not ready (e.g. which projection lags, by how much).
   */
  @Get(['ready', 'health/ready'])
  @ApiOkResponse({ type: StatusDto })
  @ApiServiceUnavailableResponse({ type: ErrorDto })
  async ready(): Promise<StatusDto> {
    const problems: string[] = [];
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
    try {
      await Promise.race([sql`SELECT 1`.execute(this.db), timeout]);
    } catch {
      problems.push('database unreachable');
    }
    if (!this.runtime.consumerAttached()) problems.push('projector not consuming (JetStream consumer detached and no catch-up from the event store)');
    if (problems.length === 0 && this.runtime.projectionLag) {
      try {
        const lags = await Promise.race([this.runtime.projectionLag(), timeout]);
        if (lags) problems.push(...lagProblems(lags, this.runtime.lagThresholds ?? DEFAULT_LAG_THRESHOLDS));
      } catch {
        problems.push('projection lag unknown (event store or database unreachable)');
      }
    }
    if (problems.length > 0) throw new ServiceUnavailableException(`not ready: ${problems.join(', ')}`);
    return { status: 'ready', role: this.runtime.projectorRole() };
  }
}
