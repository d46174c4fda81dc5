/**
 * `ingest.broadcast-recorded` (issue 11 item 1; docs/contracts.md "Recordings"): the ingest reports that a broadcast's
 * recording is complete in storage → `BroadcastRecorded` on `broadcast-<channelId>`. Body
 * `broadcastRecordedRequestSchema`, reply `broadcastRecordedReplySchema` of @eventcast/contracts: `{ ok: true,
 * position }` (null when the broadcast was already recorded: a retry is a no-op) or `{ ok: false, code, message }`
 * (`invalid_request`, `broadcast_not_found`, `internal_error`). Never a thrown RPC error.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { broadcastRecordedRequestSchema, type BroadcastRecordedReply } from '@eventcast/contracts';
import { DomainError } from '@eventcast/domain';
import { CommandPatterns, type EventMetadata } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
import { Aggregates } from '../core/aggregates.js';
import { LOGGER } from '../core/tokens.js';
import { parseRequest } from '../ingest/ingest.schemas.js';

/** The ingest's recording reports. */
@Controller()
export class RecordingsNatsController {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `ingest.broadcast-recorded` → `{ ok: true, position } | { ok: false, code, message }`. */
  @MessagePattern(CommandPatterns.BroadcastRecorded)
  async recorded(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<BroadcastRecordedReply> {
    const req = parseRequest(broadcastRecordedRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    const meta = this.metadata(ctx);
    const { channelId, broadcastId, durationMs, bytes, renditions, timeline, thumbnail } = req.data;
    try {
      const command = { type: 'RecordBroadcast', broadcastId, durationMs, bytes, renditions, timeline, thumbnail, now: new Date() } as const;
      const { events, position } = await this.aggregates.broadcasts.handle(channelId, command, meta);
      this.logger.info({ correlationId: meta.correlationId, channelId, broadcastId, durationMs, bytes, repeated: events.length === 0 }, 'broadcast recorded');
      return { ok: true, position: events.length > 0 && position != null ? position.toString() : null };
    } catch (err) {
      if (err instanceof DomainError) {
        this.logger.info({ correlationId: meta.correlationId, channelId, broadcastId, code: err.code }, 'broadcast-recorded refused');
        return { ok: false, code: err.code, message: err.message };
      }
      this.logger.error({ err, correlationId: meta.correlationId }, 'broadcast-recorded failed');
      return { ok: false, code: 'internal_error', message: 'the recording could not be recorded, retry later' };
    }
  }

  private metadata(ctx: NatsContext): EventMetadata {
    const headers = ctx.getHeaders() as { get?: (k: string) => string } | undefined;
    return { correlationId: correlationIdFrom(headers?.get?.(CORRELATION_HEADER)) };
  }
}
