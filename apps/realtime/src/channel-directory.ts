/**
 * Username → channel id, needed by `chat.send` (the command side addresses a chat room by channel id).
 *
 * Learned for free from relayed events (every relayed payload carries `username` and `channelId`) and otherwise
 * fetched from query-api `GET /channels/:username` (docs/contracts.md: `ChannelView.id`; 404 = no such channel).
 * Ids never change for a username, so hits are kept (bounded, oldest evicted first); a 404 is remembered for
 * `notFoundTtlMs`; concurrent look-ups of one username share one request.
 */

/** Query-api did not answer (network error, timeout or 5xx): the caller reports `unavailable`. */
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
  /** How long a 404 is remembered, in ms. Default 5000. */
  notFoundTtlMs?: number;
  /** Deadline of one query-api request, in ms. Default 2000. */
  timeoutMs?: number;
  /** `fetch` implementation (tests). Default the global one. */
  fetch?: typeof fetch;
}

/** Resolves channel ids by username. */
export class ChannelDirectory {
  private readonly ids = new Map<string, string>();
  private readonly notFound = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<string | null>>();
  private readonly maxEntries: number;
  private readonly notFoundTtlMs: number;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  /** @param queryApiUrl base URL of query-api without a trailing slash, e.g. `http://127.0.0.1:4002`. */
  constructor(
    private readonly queryApiUrl: string,
    options: ChannelDirectoryOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 50_000;
    this.notFoundTtlMs = options.notFoundTtlMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.fetchFn = options.fetch ?? fetch;
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
   * @returns the id, or null when query-api says the channel does not exist (404).
   * @throws {DirectoryUnavailableError} when query-api cannot answer.
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
    let res: Response;
    try {
      res = await this.fetchFn(`${this.queryApiUrl}/channels/${encodeURIComponent(username)}`, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: 'application/json' },
      });
    } catch (err) {
      throw new DirectoryUnavailableError(`query-api unreachable: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      if (this.notFound.size >= this.maxEntries) this.notFound.clear();
      this.notFound.set(username, Date.now() + this.notFoundTtlMs);
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new DirectoryUnavailableError(`query-api answered ${res.status}`);
    }
    const body = (await res.json().catch(() => null)) as { id?: unknown } | null;
    if (typeof body?.id !== 'string') throw new DirectoryUnavailableError('query-api answered without a channel id');
    this.learn(username, body.id);
    return body.id;
  }
}
