/**
 * Routing between ingest nodes (docs/design.md "Ingest nodes and playback routing"): a live channel's media exist only
 * on the node its publisher is connected to, and the playback URL names one public HLS origin (`HLS_PUBLIC_URL`). So
 * an origin asked for `/hls/<channel>/…` of a channel it does not hold asks its peers (`INGEST_PEER_ORIGINS`, the
 * other nodes' internal base URLs) and answers with the holder's response — the pattern of a reverse proxy's
 * "next upstream on 404". Any node (or a load balancer over all of them) can thus be the public origin, and the
 * browser's Content-Security-Policy keeps naming one origin.
 *
 * - A forwarded request carries {@link FORWARDED_HEADER}; a node never forwards such a request again (no loops).
 * - The holder of a channel is remembered for `holderTtlMs` (default 5 s) after a hit, so a player's requests go
 *   to one peer, not to all; a miss or an error there asks all peers again.
 * - All peers are asked at once; the first answer other than 404 wins and the others are aborted. Held requests
 *   (LL-HLS blocking playlist reloads, preload-hinted parts) are held by the holder and forwarded when answered.
 * - Responses are buffered (playlists, parts and segments are small) and passed on with status, Content-Type,
 *   Cache-Control and range headers.
 */

/** Header of a request one ingest node forwards to another (value `1`). */
export const FORWARDED_HEADER = 'x-eventcast-forwarded';

/** A peer's answer, passed on to the client. */
export interface PeerResponse {
  /** HTTP status code. */
  status: number;
  /** The status text (e.g. `OK`). */
  statusText: string;
  /** Headers to pass on (Content-Type, Cache-Control, Content-Range, Accept-Ranges, Retry-After when present). */
  headers: Record<string, string>;
  body: Buffer;
  /** Base URL of the peer that answered. */
  peer: string;
}

/** Options of {@link PeerOrigins}. */
export interface PeerOriginsOptions {
  /** Base URLs of the other nodes' origins (`http://host:port`, no trailing slash). */
  peers: readonly string[];
  /** How long a channel's holder is remembered after a hit, in ms. Default 5000. */
  holderTtlMs?: number;
  /** Deadline of one forwarded request, in ms (longer than the origin's longest hold). Default 15000. */
  timeoutMs?: number;
}

const PASSED_HEADERS = ['content-type', 'cache-control', 'content-range', 'accept-ranges', 'retry-after'];

/**
 * `INGEST_PEER_ORIGINS`: comma-separated base URLs (`http(s)://host:port`); blanks ignored, trailing slashes removed.
 * @throws {Error} naming the entry that is not an http(s) URL.
 */
export function parsePeerOrigins(raw: string | undefined): string[] {
  const out: string[] = [];
  for (const part of (raw ?? '').split(',')) {
    const s = part.trim();
    if (!s) continue;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      throw new Error(`INGEST_PEER_ORIGINS: "${s}" is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`INGEST_PEER_ORIGINS: "${s}" is not an http(s) URL`);
    out.push(s.replace(/\/+$/, ''));
  }
  return out;
}

/** Finds and asks the node that holds a channel. */
export class PeerOrigins {
  private readonly holders = new Map<string, { peer: string; until: number }>();
  private readonly holderTtlMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: PeerOriginsOptions) {
    this.holderTtlMs = options.holderTtlMs ?? 5000;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  /** True when there is any peer to ask. */
  get enabled(): boolean {
    return this.options.peers.length > 0;
  }

  /**
   * Asks the peers for `path` (`/hls/<channel>/<file>`, with `?query` when present) of `channel`: the remembered
   * holder first, else every peer at once.
   * @param headers request headers to pass on (e.g. `range`).
   * @param signal aborted when the client leaves.
   * @returns the holder's response, or null when no peer has the channel (every peer answered 404 or failed).
   */
  async fetch(channel: string, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<PeerResponse | null> {
    const known = this.holders.get(channel);
    if (known && known.until > Date.now()) {
      const r = await this.ask(known.peer, path, headers, signal).catch(() => null);
      if (r && r.status !== 404) return this.remember(channel, r);
      this.holders.delete(channel);
    }
    const all = new AbortController();
    const onAbort = (): void => all.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const answers = this.options.peers.map((peer) =>
        this.ask(peer, path, headers, all.signal).then((r) => (r.status === 404 ? Promise.reject(new Error('404')) : r)),
      );
      const r = await Promise.any(answers).catch(() => null);
      return r ? this.remember(channel, r) : null;
    } finally {
      all.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private remember(channel: string, r: PeerResponse): PeerResponse {
    this.holders.set(channel, { peer: r.peer, until: Date.now() + this.holderTtlMs });
    return r;
  }

  private async ask(peer: string, path: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<PeerResponse> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const res = await fetch(`${peer}${path}`, {
      headers: { ...headers, [FORWARDED_HEADER]: '1' },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const body = Buffer.from(await res.arrayBuffer());
    const passed: Record<string, string> = {};
    for (const h of PASSED_HEADERS) {
      const v = res.headers.get(h);
      if (v !== null) passed[h] = v;
    }
    return { status: res.status, statusText: res.statusText || 'OK', headers: passed, body, peer };
  }
}
