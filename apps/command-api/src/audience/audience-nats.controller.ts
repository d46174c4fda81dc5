/**
 * NATS request/reply of the realtime edge for analytics (docs/contracts.md "Analytics"):
 * - `audience.sample` `{ channelId, viewers, chatters, sampledAt, intervalSeconds }` → appends BroadcastViewersSampled;
 * - `audience.viewers-joined` `{ channelId, viewerKeys[] }` → appends ViewerJoinedBroadcast per key new to the broadcast.
 * Replies `{ ok: true, broadcastId, recorded }` (recorded = events appended, 0 for a duplicate) or
 * `{ ok: false, code, message }` with `not_live`, `invalid_sample`, `invalid_request` or `internal_error`. Never throws.
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { audienceSampleRequestSchema, audienceViewersJoinedRequestSchema, type AudienceReply } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { correlationIdFrom } from '../core/correlation.js';
import { LOGGER } from '../core/tokens.js';
import { parseRequest } from '../ingest/ingest.schemas.js';
import { Audiences, type AudienceOutcome } from './audiences.js';

/** Reply of the `audience.*` patterns (`AudienceReply` of @eventcast/contracts, audience.ts). */
export type { AudienceReply };

/** The audience's NATS commands. */
@Controller()
export class AudienceNatsController {
  constructor(
    @Inject(Audiences) private readonly audiences: Audiences,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `audience.sample`: one viewer-count sample of a live channel. */
  @MessagePattern(CommandPatterns.AudienceSample)
  async sample(@Payload() body: unknown): Promise<AudienceReply> {
    const req = parseRequest(audienceSampleRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    const { channelId, ...sample } = req.data;
    return this.run(channelId, () => this.audiences.sample(channelId, sample, { correlationId: correlationIdFrom(undefined) }));
  }

  /** `audience.viewers-joined`: viewer keys watching a live channel. */
  @MessagePattern(CommandPatterns.AudienceViewersJoined)
  async viewersJoined(@Payload() body: unknown): Promise<AudienceReply> {
    const req = parseRequest(audienceViewersJoinedRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    const { channelId, viewerKeys } = req.data;
    return this.run(channelId, () => this.audiences.viewersJoined(channelId, viewerKeys, { correlationId: correlationIdFrom(undefined) }));
  }

  private async run(channelId: string, work: () => Promise<AudienceOutcome>): Promise<AudienceReply> {
    try {
      return { ok: true, ...(await work()) };
    } catch (err) {
      if (err instanceof DomainError) return { ok: false, code: err.code, message: err.message };
      this.logger.error({ err, channelId }, 'audience command failed');
      return { ok: false, code: 'internal_error', message: 'the audience command could not be processed, retry later' };
    }
  }
}
