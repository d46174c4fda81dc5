/**
 * The edge side of `chat.send` (docs/chat.md "Send"): `{ type: 'chat.send', channel, text, nonce }` →
 * `{ type: 'chat.ack', nonce, messageId, visibleAt }` or `{ type: 'error', code, message, nonce, retryAfterMs? }`.
 *
 * Checks, in order, before any request: signed in (`unauthenticated`), subscribed to the channel (`not_subscribed`),
 * the connection's token bucket (`rate_limited`, 10/s burst 10; a send refused at parsing for its text takes a token
 * too, see {@link ChatSendHandler.takeToken}). The text is forwarded as is (length and content are
 * the chat room's rules). Then the channel id is resolved (`channel_not_found`; command side unreachable → `unavailable`) and
 * the NATS request is made with a deadline (batched with the edge's other sends of this event-loop turn as
 * `chat.send-batch`; no reply → `unavailable`; responder error → `internal_error`; more than
 * `REALTIME_CHAT_MAX_IN_FLIGHT_PER_CHANNEL` sends of the channel awaiting replies on this edge → `unavailable` at once);
 * refusals are passed through with their code, message and `retryAfterMs`. The client's `nonce` is forwarded: the
 * command side appends a message at most once per (sender, nonce) and answers a resend with the first ack, so a
 * client may resend the same frame after a timeout or a reconnect (to this or another edge) without duplicating it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@eventcast/platform';
import type { AuthUser } from './auth.js';
import { DirectoryUnavailableError, type ChannelDirectory } from './channel-directory.js';
import { ChatBusyError, CommandUnavailableError, type ChatCommandClient } from './command-client.js';
import type { ErrorCode, ServerFrame } from './protocol.js';
import { TokenBucket } from './token-bucket.js';

/** What the handler needs to know about the sending connection. */
export interface SenderState {
  user: AuthUser | null;
  channels: ReadonlySet<string>;
  /** Created on the first send. */
  sendBucket?: TokenBucket;
}

/** Options of {@link ChatSendHandler}. */
export interface ChatSendOptions {
  /** Edge sends per second per connection. Default 10. */
  ratePerSecond?: number;
  /** Burst of the edge bucket. Default 10. */
  burst?: number;
  /** `retryAfterMs` suggested with `unavailable`. Default 1000. */
  unavailableRetryMs?: number;
}

/** Handles `chat.send` frames. */
export class ChatSendHandler {
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly unavailableRetryMs: number;

  constructor(
    private readonly commands: Pick<ChatCommandClient, 'send'>,
    private readonly directory: ChannelDirectory,
    private readonly logger: Logger,
    options: ChatSendOptions = {},
  ) {
    this.ratePerSecond = options.ratePerSecond ?? 10;
    this.burst = options.burst ?? 10;
    this.unavailableRetryMs = options.unavailableRetryMs ?? 1000;
  }

  /**
   * Takes one token from the connection's send bucket (created on `state` when missing): the edge limit of
   * {@link ChatSendOptions} (default 10 sends/s, burst 10; token bucket of ./token-bucket.ts). Used by
   * {@link handle} and by the gateway for a `chat.send` refused at parsing for its text, so that every attempt counts.
   * @returns null when a token was taken, else the `rate_limited` error frame with `nonce` and `retryAfterMs` (ms until
   *   the next token).
   */
  takeToken(state: Pick<SenderState, 'sendBucket'>, nonce: string): ServerFrame | null {
    const now = performance.now();
    state.sendBucket ??= new TokenBucket(this.burst, this.ratePerSecond, now);
    const wait = state.sendBucket.take(now);
    if (wait <= 0) return null;
    return { type: 'error', code: 'rate_limited', message: `at most ${this.ratePerSecond} messages per second per connection`, nonce, retryAfterMs: wait };
  }

  /**
   * Runs one send and returns the frame to answer with. Never rejects.
   * @param state the connection's state; `sendBucket` is created on it when missing.
   */
  async handle(state: SenderState, msg: { channel: string; text: string; nonce: string }): Promise<ServerFrame> {
    const { channel, text, nonce } = msg;
    const fail = (code: ErrorCode, message: string, retryAfterMs?: number): ServerFrame =>
      retryAfterMs === undefined ? { type: 'error', code, message, nonce } : { type: 'error', code, message, nonce, retryAfterMs };
    const user = state.user;
    if (!user) return fail('unauthenticated', 'sign in to chat: send an auth frame or connect with ?token=');
    if (!state.channels.has(channel)) return fail('not_subscribed', `subscribe to ${channel} before sending to it`);
    const limited = this.takeToken(state, nonce);
    if (limited) return limited;

    let channelId: string | null;
    try {
      channelId = this.directory.cached(channel) ?? (await this.directory.resolve(channel));
    } catch (err) {
      const reason = err instanceof DirectoryUnavailableError ? err.message : String(err);
      this.logger.warn({ err: reason, channel }, 'channel lookup failed');
      return fail('unavailable', 'chat is temporarily unavailable; try again', this.unavailableRetryMs);
    }
    if (channelId === null) return fail('channel_not_found', `channel ${channel} does not exist`);

    const correlationId = randomUUID();
    try {
      this.logger.debug({ correlationId, channel, channelId, senderId: user.id }, 'chat.send forwarded to the command side');
      const reply = await this.commands.send({ channelId, senderId: user.id, senderName: user.username, text, nonce, correlationId });
      if (reply.ok) return { type: 'chat.ack', nonce, messageId: reply.messageId, visibleAt: reply.visibleAt };
      // A contract code: `parseChatSendReply` (command-client.ts) already turned an unknown one into internal_error.
      const code = reply.code;
      const retry = typeof reply.retryAfterMs === 'number' && reply.retryAfterMs >= 0 ? reply.retryAfterMs : undefined;
      return fail(code, typeof reply.message === 'string' ? reply.message : code, retry);
    } catch (err) {
      if (err instanceof ChatBusyError) {
        // Expected under overload, possibly thousands per second: not logged one by one (the error frames are counted
        // by code in eventcast_realtime_error_frames_total).
        return fail('unavailable', 'chat is busy; try again', this.unavailableRetryMs);
      }
      if (err instanceof CommandUnavailableError) {
        this.logger.warn({ err: err.message, correlationId }, 'chat.send got no reply');
        return fail('unavailable', 'chat is temporarily unavailable; try again', this.unavailableRetryMs);
      }
      this.logger.error({ err, correlationId }, 'chat.send failed');
      return fail('internal_error', 'the message could not be sent');
    }
  }
}
