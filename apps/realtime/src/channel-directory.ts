/**
 * Username → channel id, needed by `chat.send` (the command side addresses a chat room by channel id).
 *
 * Learned for free from relayed events (every relayed payload carries `username` and `channelId`) and otherwise asked
 * of the command side with the NATS request `channels.resolve` (libs/contracts `channels.ts`), answered by command-api
 * from the username reservation stream and the account aggregate: the chat write path needs NATS and command-api only,
 * never query-api (issue 9 item 8). Ids never change for a username, so hits are kept (bounded, oldest evicted first);
 * a `channel_not_found` is remembered for `notFoundTtlMs`; concurrent look-ups of one username share one request.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { CHANNEL_RESOLVE_SUBJECT, channelResolveReplySchema } from '@eventcast/contracts';
import { nestRequest } from './command-client.js';

/** The command side did not answer (NATS down, no responder, timeout, `unavailable`): the caller reports `unavailable`. */
export class DirectoryUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DirectoryUnavailableError';
  }
}

/** Options of {@link ChannelDirectory}. */
export interface ChannelDirectoryOptions {
  /** Most usernames remembered. Default 50 000. */
  maxEntries?: number;
  /** How long a `channel_not_found` is remembered, in ms. Default 5000. */
  notFoundTtlMs?: number;
  /** Deadline of one `channels.resolve` request, in ms. Default 2000. */
  timeoutMs?: number;
}

/** Resolves channel ids by username. */
export class ChannelDirectory {
  private readonly ids = new Map<string, string>();
  private readonly notFound = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<string | null>>();
  private readonly maxEntries: number;
  private readonly notFoundTtlMs: number;
  private readonly timeoutMs: number;

  /** @param connection the edge's NATS connection (undefined while not connected yet). */
  constructor(
    private readonly connection: () => NatsConnection | undefined,
    options: ChannelDirectoryOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 50_000;
    this.notFoundTtlMs = options.notFoundTtlMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  /** Remembers `username` → `channelId` (from a relayed event). Cheap: called for every relayed event. */
  learn(username: string, channelId: string): void {
    if (this.ids.get(username) === channelId) return;
    this.ids.set(username, channelId);
    this.notFound.delete(username);
    if (this.ids.size > this.maxEntries) {
      const oldest = this.ids.keys().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  /** The cached id, without any request. */
  cached(username: string): string | undefined {
    return this.ids.get(username);
  }

  /**
   * The channel id of `username` (a valid channel name).
   * @returns the id, or null when the command side says the channel does not exist (`channel_not_found`).
   * @throws {DirectoryUnavailableError} when the command side cannot answer.
   */
  resolve(username: string): Promise<string | null> {
    const hit = this.ids.get(username);
    if (hit !== undefined) return Promise.resolve(hit);
    const missUntil = this.notFound.get(username);
    if (missUntil !== undefined) {
      if (missUntil > Date.now()) return Promise.resolve(null);
      this.notFound.delete(username);
    }
    let p = this.inflight.get(username);
    if (!p) {
      p = this.fetchId(username).finally(() => this.inflight.delete(username));
      this.inflight.set(username, p);
    }
    return p;
  }

  private async fetchId(username: string): Promise<string | null> {
    let response: unknown;
    try {
      response = await nestRequest(this.connection(), CHANNEL_RESOLVE_SUBJECT, { username }, this.timeoutMs);
    } catch (err) {
      throw new DirectoryUnavailableError(`channel lookup failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const reply = channelResolveReplySchema.safeParse(response);
    if (!reply.success) throw new DirectoryUnavailableError('channels.resolve answered with a malformed reply');
    if (reply.data.ok) {
      this.learn(username, reply.data.channelId);
      return reply.data.channelId;
    }
    if (reply.data.code === 'channel_not_found' || reply.data.code === 'invalid_request') {
      if (this.notFound.size >= this.maxEntries) this.notFound.clear();
      this.notFound.set(username, Date.now() + this.notFoundTtlMs);
      return null;
    }
    throw new DirectoryUnavailableError(`channels.resolve: ${reply.data.code}: ${reply.data.message}`);
  }
}
