/**
 * NATS request/reply `chat.send` and `chat.send-batch` (many `chat.send` in one request, with a deadline) from the
 * realtime edge (docs/chat.md):
 * `{ channelId, senderId, senderName, text, nonce?, correlationId? }` → `{ ok: true, messageId, visibleAt }` or
 * `{ ok: false, code, message, retryAfterMs? }`. Always replies, never throws: bad payloads → `invalid_request`,
 * event store unreachable → `unavailable` with `retryAfterMs`, crashes → `internal_error` (logged), chat refusals →
 * their code.
 *
 * With a `nonce` (the client's, per sender) the send is idempotent for 24 h (docs/design.md, "Idempotency"): the
 * idempotency record (scope `chat.send:<senderId>`, fingerprint = channel and text) replays the first reply of a
 * retried nonce, waits for it while the first attempt is still running (up to {@link IN_FLIGHT_WAIT_MS}), refuses a
 * nonce reused for another message (`invalid_request`), and the message id and event id are derived from
 * (sender, nonce) so that the event store refuses a second append of the same message whatever slips past the record.
 * Claims and completions of concurrent sends are written together, one statement each per group
 * (./chat-send-records.ts).
 */
import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { chatSendBatchRequestSchema, chatSendRequestSchema, isChatRefusalCode, type ChatSendBatchReply, type ChatSendReply } from '@eventcast/contracts';
import { CommandPatterns, InvalidEventError } from '@eventcast/events';
import { commandIdOf } from '../idempotency/command-ids.js';
import { sha256Hex, type IdempotencyRecordRef } from '../idempotency/idempotency-store.js';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { isStoreUnavailableError } from '@eventcast/event-store';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
import { STORE_UNAVAILABLE_RETRY_AFTER_S } from '../core/http-exception.filter.js';
import { LOGGER } from '../core/tokens.js';
import { parseRequest } from '../ingest/ingest.schemas.js';
import { ChatSendRecords } from './chat-send-records.js';
import { PAST_DEADLINE_REPLY, SenderShedLog } from './send-deadlines.js';
import { SendChatMessageCommand } from './commands/send-chat-message.command.js';

/** Reply of `chat.send` (`ChatSendReply` of @eventcast/contracts, chat.ts). */
export type { ChatSendReply };

/**
 * How long a retried `chat.send` waits for its first attempt still in flight, ms: below the edge's request deadline
 * (REALTIME_CHAT_SEND_TIMEOUT_MS, 3 s by default) so that the retry gets the original ack rather than a timeout.
 */
export const IN_FLIGHT_WAIT_MS = 2000;

/** True for replies kept for a retried nonce: acks and refusals that do not say "try again". */
function isFinalReply(reply: ChatSendReply): boolean {
  return reply.ok || (reply.retryAfterMs === undefined && reply.code !== 'internal_error');
}

/** The correlation id a NATS request carries in its headers, if any. */
function headerCorrelation(ctx: NatsContext): string | undefined {
  const headers = ctx.getHeaders() as { get?: (k: string) => string } | undefined;
  return headers?.get?.(CORRELATION_HEADER) || undefined;
}

/** The chat's NATS commands. */
@Controller()
export class ChatNatsController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly batched: ChatSendRecords,
  ) {}

  /** Senders whose messages were shed lately (one per process): their earlier-arrived messages are shed too. */
  private readonly shedLog = new SenderShedLog();

  /** `chat.send`: decides and records one message. */
  @MessagePattern(CommandPatterns.ChatSend)
  send(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<ChatSendReply> {
    return this.sendOne(body, headerCorrelation(ctx));
  }

  /**
   * `chat.send-batch` (contract: `chatSendBatchRequestSchema`): every request of the batch as `chat.send`, at once (so
   * their idempotency claims and their chat room appends are written together), replies in request order. A request
   * still undecided `budgetMs` after the batch arrived is answered `unavailable` without being decided.
   */
  @MessagePattern(CommandPatterns.ChatSendBatch)
  async sendBatch(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<ChatSendBatchReply> {
    const deadlineBase = Date.now();
    const batch = parseRequest(chatSendBatchRequestSchema, body);
    if (!batch.ok) return { ok: false, ...batch.error };
    const at = deadlineBase + batch.data.budgetMs;
    const correlation = headerCorrelation(ctx);
    const replies = await Promise.all(
      batch.data.requests.map((item) => {
        const senderId = (item as { senderId?: unknown } | null)?.senderId;
        const expired = this.shedLog.expiry(typeof senderId === 'string' ? senderId : '', deadlineBase, at);
        return this.sendOne(item, correlation, { at, expired });
      }),
    );
    return { ok: true, replies };
  }

  /**
   * One `chat.send` request: validated, claimed by its nonce, decided, recorded. Never throws.
   * @param deadline batches only: `at` (epoch ms) and the request's `expired` predicate (./send-deadlines.ts); once it
   *   is true the request is answered `unavailable` instead of being decided.
   */
  private async sendOne(body: unknown, headerCorrelationId: string | undefined, deadline?: { at: number; expired: () => boolean }): Promise<ChatSendReply> {
    const req = parseRequest(chatSendRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    if (deadline?.expired() === true) return PAST_DEADLINE_REPLY;
    const { channelId, senderId, senderName, text, nonce } = req.data;
    const correlationId = correlationIdFrom(req.data.correlationId ?? headerCorrelationId);
    if (nonce === undefined) return this.decide(channelId, { id: senderId, name: senderName }, text, { correlationId }, deadline);

    const scope = `chat.send:${senderId}`;
    const fingerprint = sha256Hex(channelId, text);
    let record: IdempotencyRecordRef;
    try {
      const claim = await this.batched.claim<ChatSendReply>(scope, nonce, fingerprint, IN_FLIGHT_WAIT_MS, deadline);
      if (claim.state === 'expired') return PAST_DEADLINE_REPLY;
      if (claim.state === 'replay') return claim.response;
      if (claim.state === 'mismatch') return { ok: false, code: 'invalid_request', message: 'this nonce was already used for another message; use a new nonce per message' };
      // Not an error of ours: the first attempt is still being decided, so the reply says "try again shortly".
      if (claim.state === 'in_flight') return { ok: false, code: 'unavailable', message: 'this message is still being processed; retry with the same nonce', retryAfterMs: 500 };
      record = claim.record;
    } catch (err) {
      if (isStoreUnavailableError(err)) return this.unavailable(err, correlationId, channelId);
      this.logger.error({ err, correlationId, channelId }, 'chat.send idempotency record unavailable');
      return { ok: false, code: 'internal_error', message: 'the message could not be processed, retry later' };
    }
    const commandId = commandIdOf('chat.send', senderId, nonce);
    const reply = await this.decide(channelId, { id: senderId, name: senderName }, text, { correlationId, commandId }, deadline);
    try {
      if (isFinalReply(reply)) await this.batched.complete(record, reply);
      else await this.batched.release(record);
    } catch (err) {
      // The reply stands; the record lapses after its lock, and the derived ids still refuse a second append.
      this.logger.warn({ err, correlationId }, 'chat.send idempotency record not updated');
    }
    return reply;
  }

  /** Runs the send command and maps its outcome to the reply. Never throws. */
  private async decide(
    channelId: string,
    sender: { id: string; name: string },
    text: string,
    metadata: { correlationId: string; commandId?: string },
    deadline?: { at: number; expired: () => boolean },
  ): Promise<ChatSendReply> {
    const { correlationId } = metadata;
    try {
      const sent = await this.commands.execute(new SendChatMessageCommand(channelId, sender, text, metadata, undefined, deadline?.expired));
      return { ok: true, ...sent };
    } catch (err) {
      if (err instanceof DomainError) {
        // Every refusal of the chat room is a contract code; anything else would be a bug the edge shows as internal_error.
        const reply: ChatSendReply = { ok: false, code: isChatRefusalCode(err.code) ? err.code : 'internal_error', message: err.message };
        if (err.retryAfterMs !== undefined) reply.retryAfterMs = err.retryAfterMs;
        return reply;
      }
      if (err instanceof InvalidEventError) {
        return { ok: false, code: 'invalid_request', message: `the message cannot be recorded: ${err.issues.join('; ') || err.message}` };
      }
      if (isStoreUnavailableError(err)) return this.unavailable(err, correlationId, channelId);
      this.logger.error({ err, correlationId, channelId }, 'chat.send failed');
      return { ok: false, code: 'internal_error', message: 'the message could not be processed, retry later' };
    }
  }

  /** The reply while PostgreSQL (event store or idempotency records) cannot be reached: `unavailable`, retry in 1 s. */
  private unavailable(err: unknown, correlationId: string, channelId: string): ChatSendReply {
    this.logger.warn({ err: err instanceof Error ? err.message : String(err), correlationId, channelId }, 'chat.send: PostgreSQL unavailable');
    return { ok: false, code: 'unavailable', message: 'chat is temporarily unavailable; try again', retryAfterMs: STORE_UNAVAILABLE_RETRY_AFTER_S * 1000 };
  }
}
