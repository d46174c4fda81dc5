/**
 * `GET /health` (liveness) and `GET /ready` (database reachable and JetStream consumer attached).
 */
import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { sql } from 'kysely';
import { ErrorDto } from '../common/error.dto.js';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from '../common/tokens.js';
import { READ_MODEL_DB, type ReadModelDb } from '../database/database.js';

/** `{ status }` of the probes. */
export class StatusDto {
  @ApiProperty({ example: 'ok' }) status!: string;
}

/** Liveness and readiness probes. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    @Inject(READ_MODEL_DB) private readonly db: ReadModelDb,
    @Inject(QUERY_API_RUNTIME) private readonly runtime: QueryApiRuntime,
  ) {}

  /** Always `{ status: 'ok' }` while the process serves HTTP. */
  @Get('health')
  @ApiOkResponse({ type: StatusDto })
  health(): StatusDto {
    return { status: 'ok' };
  }

  /**
   * `{ status: 'ready' }` when a `SELECT 1` succeeds within 2 s and the JetStream consumer is attached.
   * @throws {ServiceUnavailableException} (503) naming what is not ready.
   */
  @Get('ready')
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
    if (!this.runtime.consumerAttached()) problems.push('JetStream consumer not attached');
    if (problems.length > 0) throw new ServiceUnavailableException(`not ready: ${problems.join(', ')}`);
    return { status: 'ready' };
  }
}
