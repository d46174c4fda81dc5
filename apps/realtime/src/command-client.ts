/**
 * `chat.send` to the command side over NATS request/reply (batched: `chat.send-batch`), speaking the @nestjs/microservices NATS wire format
 * directly on the edge's own connection (no second connection, no per-request inbox subscription as `ClientNats`
 * makes; replies come through the connection's shared request inbox):
 * - request: JSON `{ pattern, data, id }` published on subject = pattern with a reply inbox
 *   (NatsRecordSerializer of @nestjs/microservices 12);
 * - reply: JSON `{ err, response, isDisposed, id }` (ServerNats `getPublisher`); a value is `{ response, isDisposed:
 *   true }`, a handler error `{ err, isDisposed: true }`, a missing handler `{ status: 'error', err }`.
 * Payloads: docs/chat.md "NATS request/reply".
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { CHAT_SEND_BATCH_MAX, parseChatSendBatchReply, type ChatSendBatchRequest, type ChatSendReply, type ChatSendRequest } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';

/** Request and reply of `chat.send`: declared once in @eventcast/contracts (chat.ts), shared with command-api. */
export type { ChatSendReply, ChatSendRequest };

/** No reply could be obtained: NATS not connected, no responder, or the deadline passed. Nothing may have happened. */
export class CommandUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CommandUnavailableError';
  }
}

/** The responder answered with an error (Nest `err`, e.g. an exception in the handler) or a malformed reply. */
export class CommandFailedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CommandFailedError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Sends one Nest-style request and returns the reply's `response`.
 * @param nc the NATS connection, or undefined while not (yet) connected.
 * @throws {CommandUnavailableError} not connected, no responders, timeout. @throws {CommandFailedError} `err` reply or malformed reply.
 */
export async function nestRequest(nc: NatsConnection | undefined, pattern: string, data: unknown, timeoutMs: number): Promise<unknown> {
  if (!nc || nc.isClosed()) throw new CommandUnavailableError('NATS is not connected');
  const id = randomUUID();
  let reply: Uint8Array;
  try {
    const msg = await nc.request(pattern, encoder.encode(JSON.stringify({ pattern, data, id })), { timeout: timeoutMs });
    reply = msg.data;
  } catch (err) {
    throw new CommandUnavailableError(`${pattern}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (reply.length === 0) throw new CommandFailedError(`${pattern}: empty reply`);
  let packet: unknown;
  try {
    packet = JSON.parse(decoder.decode(reply));
  } catch (err) {
    throw new CommandFailedError(`${pattern}: reply is not JSON`, { cause: err });
  }
  if (typeof packet !== 'object' || packet === null) throw new CommandFailedError(`${pattern}: reply is not an object`);
  const p = packet as { id?: unknown; err?: unknown; response?: unknown };
  if (p.id !== undefined && p.id !== id) throw new CommandFailedError(`${pattern}: reply to another request`);
  if (p.err !== undefined && p.err !== null) {
    throw new CommandFailedError(`${pattern}: responder error: ${typeof p.err === 'string' ? p.err : JSON.stringify(p.err)}`);
  }
  if (!('response' in p)) throw new CommandFailedError(`${pattern}: reply without a response`);
  return p.response;
}

/** A send refused by the edge itself: its channel, or the edge, already has the most sends in flight it allows. */
export class ChatBusyError extends CommandUnavailableError {
  constructor(
    readonly channelId: string,
    readonly limit: number,
    scope: 'channel' | 'edge' = 'channel',
  ) {
    super(scope === 'channel' ? `chat.send: ${limit} messages of channel ${channelId} already in flight on this edge` : `chat.send: ${limit} messages already in flight on this edge`);
    this.name = 'ChatBusyError';
  }
}

/** Options of {@link ChatCommandClient}. */
export interface ChatCommandClientOptions {
  /**
   * Most `chat.send` requests of one channel waiting for their reply on this edge (admission limit,
   * `REALTIME_CHAT_MAX_IN_FLIGHT_PER_CHANNEL`, default 500); more are refused at once with {@link ChatBusyError}.
   * Under overload this bounds how long an admitted message waits (in flight ÷ throughput) below the request deadline,
   * so the room keeps acking at its capacity instead of timing out everything (bench/results/command-path.md).
   * 0 = no limit.
   */
  maxInFlightPerChannel?: number;
  /**
   * Most `chat.send` requests of all channels awaiting replies on this edge (`REALTIME_CHAT_MAX_IN_FLIGHT`, default
   * 1000; 0 = no limit): the same bound when the load is spread over many rooms, none of them at its own limit.
   */
  maxInFlight?: number;
}

/** Most bytes of `chat.send` requests (JSON, estimated) put in one batch: well below NATS's 1 MiB default max_payload. */
const MAX_BATCH_BYTES = 256 * 1024;

/** A queued send and its caller. */
interface Queued {
  req: ChatSendRequest;
  resolve: (reply: ChatSendReply) => void;
  reject: (err: unknown) => void;
}

/**
 * The command-side operations the edge uses. `chat.send` requests are batched: the sends to one channel that arrive
 * in one turn of the event loop go out as ONE `chat.send-batch` request when it ends (`setImmediate`; at most
 * `CHAT_SEND_BATCH_MAX` and ≈ 256 KiB each), so a lone send waits for nothing and a busy room costs one NATS request
 * per turn instead of one per message. Each caller still gets its own reply.
 */
export class ChatCommandClient {
  private queue: Queued[] = [];
  private scheduled = false;
  private readonly inFlight = new Map<string, number>();
  private inFlightTotal = 0;
  private readonly maxInFlightPerChannel: number;
  private readonly maxInFlight: number;

  /**
   * @param connection returns the current NATS connection (undefined until connected).
   * @param timeoutMs deadline of each request in ms (docs: 3 s); command-api is given 80 % of it to decide the batch.
   */
  constructor(
    private readonly connection: () => NatsConnection | undefined,
    private readonly timeoutMs: number,
    options: ChatCommandClientOptions = {},
  ) {
    this.maxInFlightPerChannel = options.maxInFlightPerChannel ?? 500;
    this.maxInFlight = options.maxInFlight ?? 1000;
  }

  /** Sends waiting for their reply on this edge, per channel id (for metrics and tests). */
  inFlightOf(channelId: string): number {
    return this.inFlight.get(channelId) ?? 0;
  }

  /**
   * `chat.send`, in the batch of this event-loop turn; the reply is read with `parseChatSendBatchReply` (an unknown
   * refusal code becomes `internal_error`).
   * @throws {ChatBusyError} the channel has `maxInFlightPerChannel`, or the edge `maxInFlight`, sends in flight
   *   (nothing was sent).
   * @throws {CommandUnavailableError} no reply in time. @throws {CommandFailedError} error or malformed reply.
   */
  async send(req: ChatSendRequest): Promise<ChatSendReply> {
    const held = this.inFlight.get(req.channelId) ?? 0;
    if (this.maxInFlightPerChannel > 0 && held >= this.maxInFlightPerChannel) throw new ChatBusyError(req.channelId, this.maxInFlightPerChannel);
    if (this.maxInFlight > 0 && this.inFlightTotal >= this.maxInFlight) throw new ChatBusyError(req.channelId, this.maxInFlight, 'edge');
    this.inFlight.set(req.channelId, held + 1);
    this.inFlightTotal++;
    try {
      return await new Promise<ChatSendReply>((resolve, reject) => {
        this.queue.push({ req, resolve, reject });
        if (!this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.flush());
        }
      });
    } finally {
      this.inFlightTotal--;
      const left = (this.inFlight.get(req.channelId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(req.channelId, left);
      else this.inFlight.delete(req.channelId);
    }
  }

  /**
   * Sends everything queued: one batch per channel (a batch is answered when its last request is decided, so a slow
   * room must not hold another room's acks), split at `CHAT_SEND_BATCH_MAX` requests or ≈ 256 KiB.
   */
  private flush(): void {
    this.scheduled = false;
    const byChannel = new Map<string, Queued[]>();
    for (const q of this.queue) {
      const list = byChannel.get(q.req.channelId);
      if (list) list.push(q);
      else byChannel.set(q.req.channelId, [q]);
    }
    this.queue = [];
    for (const queued of byChannel.values()) {
      for (let i = 0; i < queued.length; ) {
        const batch: Queued[] = [];
        let bytes = 0;
        while (i < queued.length && batch.length < CHAT_SEND_BATCH_MAX) {
          const q = queued[i]!;
          const size = 256 + q.req.text.length * 3;
          if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
          batch.push(q);
          bytes += size;
          i++;
        }
        void this.sendBatch(batch);
      }
    }
  }

  /** One `chat.send-batch` request; settles every caller of `batch`. Never rejects. */
  private async sendBatch(batch: Queued[]): Promise<void> {
    // 80 % of the edge's deadline, within the contract's 1–60,000 ms.
    const body: ChatSendBatchRequest = { requests: batch.map((q) => q.req), budgetMs: Math.min(60_000, Math.max(1, Math.floor(this.timeoutMs * 0.8))) };
    try {
      const replies = parseChatSendBatchReply(await nestRequest(this.connection(), CommandPatterns.ChatSendBatch, body, this.timeoutMs), batch.length);
      if (!replies) throw new CommandFailedError(`${CommandPatterns.ChatSendBatch}: malformed reply`);
      batch.forEach((q, i) => q.resolve(replies[i]!));
    } catch (err) {
      for (const q of batch) q.reject(err);
    }
  }
}
