/**
 * NATS request/reply `channels.resolve` (libs/contracts `channels.ts`): username → channel id, for the realtime edge,
 * so the chat write path needs only the command side (not query-api). Answered from the username reservation stream
 * and the account aggregate through {@link ChannelDirectory} (positive answers cached there).
 * Always replies, never throws: a bad payload → `invalid_request`, an unknown name → `channel_not_found`, the event
 * store unreachable → `unavailable`, anything else → `internal_error` (logged).
 */
import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { CHANNEL_RESOLVE_SUBJECT, channelResolveRequestSchema, type ChannelResolveReply } from '@eventcast/contracts';
import { isStoreUnavailableError } from '@eventcast/event-store';
import type { Logger } from '@eventcast/platform';
import { LOGGER } from '../core/tokens.js';
import { parseRequest } from '../ingest/ingest.schemas.js';
import { ChannelDirectory } from './channel-directory.js';

/** Channel look-ups for the realtime edge. */
@Controller()
export class ChannelResolveNatsController {
  constructor(
    private readonly channels: ChannelDirectory,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `channels.resolve`: `{ username }` → `{ ok: true, channelId, username } | { ok: false, code, message }`. */
  @MessagePattern(CHANNEL_RESOLVE_SUBJECT)
  async resolve(@Payload() body: unknown): Promise<ChannelResolveReply> {
    const req = parseRequest(channelResolveRequestSchema, body);
    if (!req.ok) return { ok: false, code: 'invalid_request', message: req.error.message };
    try {
      const channel = await this.channels.channelByUsername(req.data.username);
      if (!channel) return { ok: false, code: 'channel_not_found', message: `channel ${req.data.username.toLowerCase()} does not exist` };
      return { ok: true, channelId: channel.id, username: channel.username };
    } catch (err) {
      if (isStoreUnavailableError(err)) {
        this.logger.warn({ err: (err as Error).message }, 'channels.resolve: event store unavailable');
        return { ok: false, code: 'unavailable', message: 'the event store is unreachable; retry shortly' };
      }
      this.logger.error({ err }, 'channels.resolve failed');
      return { ok: false, code: 'internal_error', message: 'the channel could not be resolved' };
    }
  }
}
