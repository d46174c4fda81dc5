/**
 * NATS request/reply `chat.send` from the realtime edge (docs/chat.md):
 * `{ channelId, senderId, senderName, text, correlationId? }` → `{ ok: true, messageId, visibleAt }` or
 * `{ ok: false, code, message, retryAfterMs? }`. Always replies, never throws: bad payloads → `invalid_request`,
 * crashes → `internal_error` (logged), chat refusals → their code.
 */
import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { CommandPatterns, InvalidEventError } from '@eventcast/events';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
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
      if (err instanceof InvalidEventError) {
        return { ok: false, code: 'invalid_request', message: `the message cannot be recorded: ${err.issues.join('; ') || err.message}` };
      }
      this.logger.error({ err, correlationId, channelId }, 'chat.send failed');
      return { ok: false, code: 'internal_error', message: 'the message could not be processed, retry later' };
    }
  }
}
