/**
 * NATS request/reply of the ingest for stream health (docs/contracts.md "Stream health"):
 * - `ingest.health-sample` (`healthSampleRequestSchema` of @eventcast/contracts) → `BroadcastHealthSampled`;
 * - `ingest.input-refused` (`inputRefusedRequestSchema`) → `PublishInputRefused`.
 * Replies `{ ok: true, recorded }` or `{ ok: false, code, message }` with `not_live`, `invalid_request` or
 * `internal_error`. Never throws.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { healthSampleRequestSchema, inputRefusedRequestSchema, type HealthCommandReply } from '@eventcast/contracts';
import { CommandPatterns, type EventMetadata } from '@eventcast/events';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
import { LOGGER } from '../core/tokens.js';
import { parseRequest } from './ingest.schemas.js';
import { StreamHealthRecorder, type HealthOutcome } from './stream-health.js';

/** The ingest's stream-health commands. */
@Controller()
export class StreamHealthController {
  constructor(
    @Inject(StreamHealthRecorder) private readonly recorder: StreamHealthRecorder,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `ingest.health-sample`: one sample of a live broadcast's input. */
  @MessagePattern(CommandPatterns.HealthSample)
  async sample(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<HealthCommandReply> {
    const req = parseRequest(healthSampleRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    return this.run(ctx, 'health-sample', (meta) => this.recorder.sample(req.data, meta));
  }

  /** `ingest.input-refused`: a publish refused for its media. */
  @MessagePattern(CommandPatterns.InputRefused)
  async inputRefused(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<HealthCommandReply> {
    const req = parseRequest(inputRefusedRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    return this.run(ctx, 'input-refused', (meta) => this.recorder.inputRefused(req.data, meta));
  }

  private async run(ctx: NatsContext, name: string, work: (meta: EventMetadata) => Promise<HealthOutcome>): Promise<HealthCommandReply> {
    const headers = ctx.getHeaders() as { get?: (k: string) => string } | undefined;
    const meta: EventMetadata = { correlationId: correlationIdFrom(headers?.get?.(CORRELATION_HEADER)) };
    try {
      return { ok: true, ...(await work(meta)) };
    } catch (err) {
      if (err instanceof DomainError) return { ok: false, code: err.code, message: err.message };
      this.logger.error({ err, correlationId: meta.correlationId, command: name }, 'stream-health command failed');
      return { ok: false, code: 'internal_error', message: 'the command could not be processed, retry later' };
    }
  }
}
