/**
 * `chat.send` to the command side over NATS request/reply, speaking the @nestjs/microservices NATS wire format
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
import { parseChatSendReply, type ChatSendReply, type ChatSendRequest } from '@eventcast/contracts';
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

/** The command-side operations the edge uses. */
export class ChatCommandClient {
  /**
   * @param connection returns the current NATS connection (undefined until connected).
   * @param timeoutMs deadline of each request in ms (docs: 3 s).
   */
  constructor(
    private readonly connection: () => NatsConnection | undefined,
    private readonly timeoutMs: number,
  ) {}

  /**
   * `chat.send`; the reply is read with `parseChatSendReply` (an unknown refusal code becomes `internal_error`).
   * @throws {CommandUnavailableError} no reply in time. @throws {CommandFailedError} error or malformed reply.
   */
  async send(req: ChatSendRequest): Promise<ChatSendReply> {
    const r = parseChatSendReply(await nestRequest(this.connection(), CommandPatterns.ChatSend, req, this.timeoutMs));
    if (!r) throw new CommandFailedError(`${CommandPatterns.ChatSend}: malformed reply`);
    return r;
  }
}
