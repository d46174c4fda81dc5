/**
 * NATS request/reply `chat.send` from the realtime edge (docs/chat.md):
 * `{ channelId, senderId, senderName, text, correlationId? }` → `{ ok: true, messageId, visibleAt }` or
 * `{ ok: false, code, message, retryAfterMs? }`. Always replies, never throws: bad payloads → `invalid_request`,
 * event store unreachable → `unavailable` with `retryAfterMs`, crashes → `internal_error` (logged), chat refusals →
 * their code.
 */
import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CommandPatterns } from '@eventcast/events';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { isStoreUnavailableError } from '@eventcast/event-store';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
import { STORE_UNAVAILABLE_RETRY_AFTER_S } from '../core/http-exception.filter.js';
import { LOGGER } from '../core/tokens.js';
import { parseRequest } from '../ingest/ingest.schemas.js';
import { chatSendRequest } from './chat.schemas.js';
import { SendChatMessageCommand } from './commands/send-chat-message.command.js';

/** Reply of `chat.send`. */
export type ChatSendReply = { ok: true; messageId: string; visibleAt: string } | { ok: false; code: string; message: string; retryAfterMs?: number };

/** The chat's NATS commands. */
@Controller()
export class ChatNatsController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `chat.send`: decides and records one message. */
  @MessagePattern(CommandPatterns.ChatSend)
  async send(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<ChatSendReply> {
    const req = parseRequest(chatSendRequest, body);
    if (!req.ok) return { ok: false, ...req.error };
    const { channelId, senderId, senderName, text } = req.data;
    const headers = ctx.getHeaders() as { get?: (k: string) => string } | undefined;
    const correlationId = correlationIdFrom(req.data.correlationId ?? headers?.get?.(CORRELATION_HEADER));
    try {
      const sent = await this.commands.execute(new SendChatMessageCommand(channelId, { id: senderId, name: senderName }, text, { correlationId }));
      return { ok: true, ...sent };
    } catch (err) {
      if (err instanceof DomainError) {
        const reply: ChatSendReply = { ok: false, code: err.code, message: err.message };
        if (err.retryAfterMs !== undefined) reply.retryAfterMs = err.retryAfterMs;
        return reply;
      }
      if (isStoreUnavailableError(err)) {
        this.logger.warn({ err: (err as Error).message, correlationId, channelId }, 'chat.send: event store unavailable');
        return { ok: false, code: 'unavailable', message: 'chat is temporarily unavailable; try again', retryAfterMs: STORE_UNAVAILABLE_RETRY_AFTER_S * 1000 };
      }
      this.logger.error({ err, correlationId, channelId }, 'chat.send failed');
      return { ok: false, code: 'internal_error', message: 'the message could not be processed, retry later' };
    }
  }
}
