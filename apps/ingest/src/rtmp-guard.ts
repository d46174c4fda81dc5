/**
 * The guard in front of node-media-server's RTMP listener: it sees every socket before NMS does and enforces the
 * limits NMS 4.4 has no setting for (issue 9 item 4), and it holds each `publish` until the command side answered, so
 * a refused encoder is told why (item 5).
 *
 * Why a guard and not a setting: NMS 4.4 (node_modules/node-media-server/src) has no timeouts and no limits at all.
 * Its RTMP server (`server/rtmp_server.js`) creates an `RtmpSession` per socket; the session's parser
 * (`protocol/rtmp.js`, class `Rtmp`) keeps one `RtmpPacket` per chunk stream id in `inPackets` (never removed) and
 * `packetAlloc()` allocates `header.length + 1024` bytes as soon as a chunk header announces a message length
 * (24 bits: up to 16 MiB) — before any `connect`. 40 chunk streams × 16 MiB ≈ 670 MB for a few KB sent. A
 * connection that sends nothing stays open forever. The guard therefore:
 * - replaces the TCP server's `connection` listener with its own, which refuses sockets over the per-address cap or
 *   the total cap of external connections (internal addresses are exempt from both, so the packager of a live
 *   channel still connects) and then calls NMS's own `handleRequest(socket)` (NMS keeps all its bookkeeping);
 * - wraps the session's socket `data` listener: the first byte must be RTMP version 3 (RTMP 1.0 spec §5.2.2, C0),
 *   and any exception NMS's parser throws on garbage (e.g. `new URL()` of a bogus tcUrl, an AMF decode of a
 *   truncated buffer) closes that socket instead of crashing the process;
 * - overrides three parser methods on that session's instance only (prototype untouched): `packetParse` (cap on
 *   distinct chunk stream ids), `packetAlloc` (cap on the announced message length, stricter before the publish is
 *   authorized) and `packetHandler` (a Set Chunk Size of 0 or with bit 31 set is a protocol violation, RTMP 1.0 spec
 *   §5.4.1);
 * - overrides `onPublish` / `onPlay` on the instance: a publish waits for {@link PublishAuthorizer.authorize}; refused
 *   → an `onStatus` error (`NetStream.Publish.BadName` / `.Rejected` with a description, @eventcast/contracts
 *   `rtmpRefusalStatus`) on the client's stream, then the socket is ended; allowed → NMS's own `onPublish` runs (it
 *   answers `NetStream.Publish.Start` and emits prePublish/postPublish). `play` is only for internal addresses.
 * - one sweep timer enforces the deadlines: from accept to `publish`/`play` (`handshakeTimeoutMs`), the
 *   authorization itself (`authorizeTimeoutMs`), and an authorized publisher's silence (`idleTimeoutMs`), and the
 *   backlog of an internal player: NMS writes media to players with `socket.write` and ignores its return value
 *   (src/session/rtmp_session.js, `sendBuffer`), so a player that reads slower than the stream (a restream ffmpeg
 *   whose target is slow, a packager that fell behind) makes NMS queue the stream in the ingest's memory without
 *   limit; a player whose socket `writableLength` exceeds `maxPlayerBufferBytes` is destroyed (`player_backlog`;
 *   the restreamer retries, the packager restarts). Ended
 *   sockets that the peer keeps half-open are destroyed {@link CLOSE_LINGER_MS} later.
 * What it relies on from NMS is checked at start ({@link RtmpGuard.install} throws if a hook is missing), so an NMS
 * upgrade that renames these internals fails loudly rather than silently unguarded.
 */
import { createRequire } from 'node:module';
import type { Server, Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { rtmpRefusalStatus, type IngestRefusalReason } from '@eventcast/contracts';
import { counter, gauge, type Logger } from '@eventcast/platform';
import type { RtmpLimits } from './config.js';
import type { NmsServer, NmsSession } from './nms.js';
import type { PublishAuthorizer, PublishVerdict } from './publish-gate.js';
import { errorMessage } from './util.js';

/** How long an ended socket may stay half-open (peer not closing) before it is destroyed, ms. */
export const CLOSE_LINGER_MS = 2000;
/** RTMP version byte C0 (RTMP 1.0 spec §5.2.2); 6 (RTMPE) and anything else is refused. */
const RTMP_VERSION = 3;
/** Message type id of Set Chunk Size (RTMP 1.0 spec §5.4.1). */
const SET_CHUNK_SIZE = 1;

/** Why the guard closed a connection (label `reason` of `eventcast_ingest_rtmp_connections_closed_total`). */
export type GuardCloseReason =
  | 'per_ip_limit'
  | 'total_limit'
  | 'bad_version'
  | 'handshake_timeout'
  | 'authorize_timeout'
  | 'idle_timeout'
  | 'message_too_long'
  | 'too_many_chunk_streams'
  | 'bad_chunk_size'
  | 'protocol_error'
  | 'tls_error'
  | 'player_backlog';

/** The internals of NMS 4.4's `Rtmp` parser (src/protocol/rtmp.js) the guard hooks. */
interface RtmpParser {
  parserPacket: { header: { length: number; type: number; stream_id: number }; payload: Buffer };
  inPackets: Map<number, unknown>;
  streamApp?: unknown;
  // Prototype methods of Rtmp, replaced per instance: typed as properties (called with `.call(rtmp)`).
  packetParse: () => void;
  packetAlloc: () => void;
  packetHandler: () => void;
  onPublish: (msg: InvokeMessage) => void;
  onPlay: (msg: InvokeMessage) => void;
  sendStatusMessage(sid: number, level: string, code: string, description: string): void;
}

/** A decoded AMF0 `publish`/`play` command (fields may be anything a client sent). */
interface InvokeMessage {
  streamName?: unknown;
}

/** An NMS RtmpSession with the members the guard hooks. */
interface GuardedSession extends NmsSession {
  rtmp: RtmpParser;
  onData: (data: Buffer) => void;
}

/** Context of NMS (src/core/context.js): its session and broadcast registries. */
interface NmsContext {
  sessions: Map<string, NmsSession>;
  broadcasts: Map<string, { publisher: NmsSession | null; _publishGraceTimer?: unknown }>;
}

/** Raised inside the parser hooks; caught by the guard's data listener, which closes the socket. */
class RtmpLimitError extends Error {
  constructor(
    readonly reason: GuardCloseReason,
    message: string,
  ) {
    super(message);
    this.name = 'RtmpLimitError';
  }
}

type Phase = 'handshake' | 'authorizing' | 'publishing' | 'playing' | 'closing';

/** One accepted TCP connection. */
interface Conn {
  socket: Socket;
  address: string;
  internal: boolean;
  phase: Phase;
  openedAt: number;
  /** When `publish` arrived (phase authorizing). */
  authorizingSince: number;
  lastDataAt: number;
  closingAt: number;
  firstByteSeen: boolean;
  sessionId: string;
  /** The accepted TCP socket (for RTMPS the one under {@link socket}, the TLS socket). */
  raw: Socket;
  /** Accepted on the RTMPS listener; `tlsDone` once its TLS handshake completed. */
  tls: boolean;
  tlsDone: boolean;
  /** Frees the connection's slot (idempotent); runs when either socket closes. */
  release: () => void;
}

const closedTotal = counter({
  name: 'eventcast_ingest_rtmp_connections_closed_total',
  help: 'RTMP connections the ingest closed for a limit or a protocol violation, by reason.',
  labelNames: ['reason'],
});
const refusedTotal = counter({
  name: 'eventcast_ingest_rtmp_refusals_total',
  help: 'RTMP publishes (and external plays) refused with an onStatus error, by reason.',
  labelNames: ['reason'],
});
const guards = new Set<RtmpGuard>();
gauge({
  name: 'eventcast_ingest_rtmp_connections',
  help: 'Open RTMP connections (TCP) on this ingest node.',
  collect() {
    this.set([...guards].reduce((n, g) => n + g.openConnections, 0));
  },
});

/** What {@link RtmpGuard} needs. */
export interface RtmpGuardOptions {
  limits: RtmpLimits;
  /** Upper bound of one authorization (the command timeout plus a margin), ms. */
  authorizeTimeoutMs: number;
  authorizer: PublishAuthorizer;
  log: Logger;
}

const require = createRequire(import.meta.url);

/** Normalises `::ffff:1.2.3.4` to `1.2.3.4`. */
function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}

/** Guards node-media-server's RTMP listener; see the module comment. */
export class RtmpGuard {
  private readonly conns = new Set<Conn>();
  private readonly perAddress = new Map<string, number>();
  /** Open connections from external addresses (the sum of {@link perAddress}), checked against `maxConnections`. */
  private external = 0;
  /** When the last "total cap reached" warning was logged (epoch ms). */
  private totalCapWarnedAt = 0;
  private readonly context: NmsContext;
  private timer: NodeJS.Timeout | null = null;
  private handleRequest: ((socket: Socket) => void) | null = null;
  private stopped = false;

  constructor(private readonly o: RtmpGuardOptions) {
    this.context = require('node-media-server/src/core/context.js') as NmsContext;
  }

  /** Open connections (all phases). */
  get openConnections(): number {
    return this.conns.size;
  }

  /**
   * Puts the guard in front of `nms`'s RTMP TCP server (call before it listens) and starts the sweep timer.
   * @throws {Error} when NMS does not have the internals the guard relies on (see the module comment).
   */
  install(nms: NmsServer): void {
    const server: Server | undefined = nms.rtmpServer.tcpServer;
    const handleRequest = nms.rtmpServer.handleRequest;
    if (!server || typeof handleRequest !== 'function' || !(this.context.sessions instanceof Map)) {
      throw new Error('node-media-server RTMP internals not found: the RTMP guard cannot be installed');
    }
    this.handleRequest = handleRequest;
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    const { handshakeTimeoutMs, idleTimeoutMs } = this.o.limits;
    const tick = Math.max(50, Math.min(1000, Math.floor(Math.min(handshakeTimeoutMs, idleTimeoutMs) / 5)));
    this.timer = setInterval(() => this.sweep(), tick);
    this.timer.unref();
    guards.add(this);
  }

  /** Stops the sweep timer and refuses new sockets (NMS's `stop()` destroys the open ones). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    guards.delete(this);
  }

  /**
   * Puts the guard in front of an RTMPS listener (issue 10 item 6): `server` is a plain TCP server (not yet
   * listening) whose sockets are admitted exactly like plain RTMP ones — per-address and total caps on the real client
   * address, the handshake deadline running from TCP accept, so it covers the TLS handshake too — and then wrapped in
   * a server-side `tls.TLSSocket` with `secureContext`; once the TLS handshake is done the decrypted socket goes to
   * NMS's `handleRequest` and is guarded like any RTMP session. Call after {@link install}.
   * A failed TLS handshake is counted as `tls_error` and the socket destroyed.
   */
  installTls(server: Server, secureContext: SecureContext): void {
    server.on('connection', (raw: Socket) => {
      const c = this.admit(raw);
      if (!c) return;
      c.tls = true;
      const secure = new TLSSocket(raw, { isServer: true, secureContext });
      c.socket = secure;
      // The TLS socket owns the TCP handle now: its close frees the slot (the raw socket's may never fire).
      secure.once('close', c.release);
      raw.on('error', () => undefined);
      // Persistent: a TLS socket may report more than one error; after the handshake NMS's session listens too.
      secure.on('error', (err: Error) => {
        if (!c.tlsDone) this.drop(c, 'tls_error', err);
      });
      // Emitted by a server-side TLSSocket when its handshake completed (node lib/_tls_wrap.js, what tls.Server
      // itself listens to before emitting 'secureConnection').
      secure.once('secure', () => {
        c.tlsDone = true;
        if (c.phase === 'closing' || raw.destroyed) return;
        this.attach(c, secure);
      });
    });
  }

  private onConnection(socket: Socket): void {
    const c = this.admit(socket);
    if (c) this.attach(c, socket);
  }

  /**
   * Applies the connection caps to a freshly accepted TCP socket and registers it for the deadlines.
   * @returns the connection, or null when it was refused (socket destroyed).
   */
  private admit(socket: Socket): Conn | null {
    const address = plainAddress(socket.remoteAddress);
    if (this.stopped || address === '') {
      socket.destroy();
      return null;
    }
    const internal = this.o.authorizer.isInternalAddress(address);
    if (!internal) {
      const open = this.perAddress.get(address) ?? 0;
      if (open >= this.o.limits.maxConnectionsPerIp) {
        closedTotal.inc({ reason: 'per_ip_limit' });
        this.o.log.debug({ remoteAddress: address, open }, 'RTMP connection refused: too many from this address');
        socket.destroy();
        return null;
      }
      if (this.external >= this.o.limits.maxConnections) {
        closedTotal.inc({ reason: 'total_limit' });
        const now = Date.now();
        const fields = { remoteAddress: address, open: this.external, limit: this.o.limits.maxConnections };
        // Reaching the total cap refuses encoders too: worth a warning, at most one a minute (the metric counts all).
        if (now - this.totalCapWarnedAt >= 60_000) {
          this.totalCapWarnedAt = now;
          this.o.log.warn(fields, 'RTMP connection refused: INGEST_RTMP_MAX_CONNECTIONS reached');
        } else this.o.log.debug(fields, 'RTMP connection refused: too many connections in total');
        socket.destroy();
        return null;
      }
      this.perAddress.set(address, open + 1);
      this.external += 1;
    }
    const now = Date.now();
    const c: Conn = {
      socket, address, internal, phase: 'handshake', openedAt: now, authorizingSince: 0, lastDataAt: now, closingAt: 0,
      firstByteSeen: false, sessionId: '', raw: socket, tls: false, tlsDone: false, release: () => undefined,
    };
    this.conns.add(c);
    let released = false;
    c.release = () => {
      if (released) return;
      released = true;
      this.conns.delete(c);
      if (internal) return;
      this.external -= 1;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
    socket.once('close', c.release);
    return c;
  }

  /** Hands an admitted (and, for RTMPS, decrypted) socket to NMS and hooks its session. */
  private attach(c: Conn, socket: Socket): void {
    try {
      this.handleRequest?.(socket);
      const session = this.findSession(socket);
      if (!session) throw new Error('node-media-server created no session for the socket');
      this.instrument(c, session);
    } catch (err: unknown) {
      this.o.log.error({ err: errorMessage(err) }, 'could not set up an RTMP session');
      socket.destroy();
    }
  }

  private findSession(socket: Socket): GuardedSession | undefined {
    for (const s of this.context.sessions.values()) if (s.socket === socket) return s as GuardedSession;
    return undefined;
  }

  /** Hooks the session's data listener and parser (instance properties only). */
  private instrument(c: Conn, s: GuardedSession): void {
    const rtmp = s.rtmp;
    const onData = s.onData;
    if (typeof onData !== 'function' || !rtmp || typeof rtmp.packetAlloc !== 'function' || typeof rtmp.onPublish !== 'function') {
      throw new Error('node-media-server session internals not found');
    }
    c.sessionId = s.id;
    const limits = this.o.limits;
    c.socket.off('data', onData);
    c.socket.on('data', (chunk: Buffer) => {
      if (c.phase === 'closing') return;
      c.lastDataAt = Date.now();
      if (!c.firstByteSeen) {
        c.firstByteSeen = true;
        if (chunk[0] !== RTMP_VERSION) return this.drop(c, 'bad_version');
      }
      try {
        onData(chunk);
      } catch (err: unknown) {
        this.drop(c, err instanceof RtmpLimitError ? err.reason : 'protocol_error', err);
      }
    });

    const packetParse = rtmp.packetParse;
    rtmp.packetParse = () => {
      packetParse.call(rtmp);
      if (rtmp.inPackets.size > limits.maxChunkStreams) {
        throw new RtmpLimitError('too_many_chunk_streams', `more than ${limits.maxChunkStreams} chunk streams`);
      }
    };
    const packetAlloc = rtmp.packetAlloc;
    rtmp.packetAlloc = () => {
      const length = rtmp.parserPacket.header.length;
      const cap = c.phase === 'publishing' ? limits.maxMediaMessageBytes : limits.maxMessageBytes;
      if (length > cap) throw new RtmpLimitError('message_too_long', `message of ${length} bytes announced (limit ${cap})`);
      packetAlloc.call(rtmp);
    };
    const packetHandler = rtmp.packetHandler;
    rtmp.packetHandler = () => {
      const { header, payload } = rtmp.parserPacket;
      if (header.type === SET_CHUNK_SIZE) {
        const size = header.length >= 4 ? payload.readUInt32BE(0) : 0;
        if (size < 1 || size > 0x7fffffff) throw new RtmpLimitError('bad_chunk_size', `invalid chunk size ${size}`);
      }
      packetHandler.call(rtmp);
    };

    const onPublish = rtmp.onPublish;
    rtmp.onPublish = (msg: InvokeMessage) => {
      const streamId = rtmp.parserPacket.header.stream_id;
      if (c.phase !== 'handshake') return this.refuse(c, rtmp, streamId, 'duplicate_publish');
      c.phase = 'authorizing';
      c.authorizingSince = Date.now();
      const app = typeof rtmp.streamApp === 'string' ? rtmp.streamApp : '';
      const name = typeof msg.streamName === 'string' ? (msg.streamName.split('?')[0] ?? '') : '';
      void this.o.authorizer.authorize(s, { app, name }).then(
        (verdict) => this.decided(c, s, streamId, verdict, () => onPublish.call(rtmp, msg), name),
        (err: unknown) => this.drop(c, 'protocol_error', err),
      );
    };
    const onPlay = rtmp.onPlay;
    rtmp.onPlay = (msg: InvokeMessage) => {
      const streamId = rtmp.parserPacket.header.stream_id;
      if (c.phase !== 'handshake') return this.refuse(c, rtmp, streamId, 'duplicate_publish');
      if (!c.internal) {
        this.o.log.warn({ sessionId: s.id, remoteAddress: c.address }, 'external RTMP playback refused');
        return this.refuse(c, rtmp, streamId, 'playback_not_offered');
      }
      c.phase = 'playing';
      onPlay.call(rtmp, msg);
    };
  }

  /** The authorization of `s`'s publish answered: refuse with onStatus, or let NMS run the publish. */
  private decided(c: Conn, s: GuardedSession, streamId: number, verdict: PublishVerdict, publish: () => void, name: string): void {
    if (c.phase !== 'authorizing' || c.socket.destroyed) {
      this.o.log.info({ sessionId: s.id }, 'publisher left before the authorization answer');
      return;
    }
    if (!verdict.allowed) return this.refuse(c, s.rtmp, streamId, verdict.reason);
    const broadcast = this.context.broadcasts.get(`/live/${name}`);
    if (broadcast?.publisher && !broadcast._publishGraceTimer) {
      // NMS would answer Publish.Start and then drop it: the path has a connected publisher on this node.
      verdict.log.warn('publish refused: the stream already has a connected publisher on this node');
      return this.refuse(c, s.rtmp, streamId, 'already_live');
    }
    c.phase = 'publishing';
    c.lastDataAt = Date.now();
    const rtmp = s.rtmp;
    // NMS's onPublish reads the stream id from the packet being parsed, which by now may be another one.
    const current = rtmp.parserPacket;
    rtmp.parserPacket = { ...current, header: { ...current.header, stream_id: streamId } };
    try {
      publish();
    } catch (err: unknown) {
      return this.drop(c, 'protocol_error', err);
    } finally {
      rtmp.parserPacket = current;
    }
    if (!s.isPublisher) {
      verdict.log.warn('publish refused by the media server');
      return;
    }
    this.o.authorizer.accepted(s, verdict);
  }

  /** Sends the onStatus error for `reason` on `streamId` and ends the socket (destroyed after the linger time). */
  private refuse(c: Conn, rtmp: RtmpParser, streamId: number, reason: IngestRefusalReason): void {
    const status = rtmpRefusalStatus(reason);
    refusedTotal.inc({ reason });
    try {
      rtmp.sendStatusMessage(streamId, status.level, status.code, status.description);
    } catch (err: unknown) {
      this.o.log.warn({ sessionId: c.sessionId, err: errorMessage(err) }, 'could not send the refusal status');
    }
    c.phase = 'closing';
    c.closingAt = Date.now();
    c.socket.end();
  }

  /** Closes `c` at once for a limit or protocol violation. */
  private drop(c: Conn, reason: GuardCloseReason, err?: unknown): void {
    if (c.phase === 'closing' && c.socket.destroyed) return;
    closedTotal.inc({ reason });
    const fields = { sessionId: c.sessionId, remoteAddress: c.address, reason, ...(err === undefined ? {} : { err: errorMessage(err) }) };
    if (reason === 'idle_timeout') this.o.log.warn(fields, 'RTMP publisher sent nothing for too long; disconnected');
    else this.o.log.debug(fields, 'RTMP connection closed by the guard');
    c.phase = 'closing';
    c.closingAt = Date.now();
    c.socket.destroy();
    c.raw.destroy();
  }

  /** Enforces the deadlines on every connection; runs every tick (≤ 1 s). */
  private sweep(): void {
    const now = Date.now();
    const { handshakeTimeoutMs, idleTimeoutMs } = this.o.limits;
    for (const c of this.conns) {
      switch (c.phase) {
        case 'handshake':
          if (now - c.openedAt > handshakeTimeoutMs) this.drop(c, 'handshake_timeout');
          break;
        case 'authorizing':
          if (now - c.authorizingSince > this.o.authorizeTimeoutMs) this.drop(c, 'authorize_timeout');
          break;
        case 'publishing':
          if (now - c.lastDataAt > idleTimeoutMs) this.drop(c, 'idle_timeout');
          break;
        case 'closing':
          if (now - c.closingAt > CLOSE_LINGER_MS) {
            c.socket.destroy();
            c.raw.destroy();
          }
          break;
        case 'playing': {
          // The socket NMS writes to (for RTMPS the TLS socket: its queue holds the clear text not yet encrypted).
          const queued = c.socket.writableLength + (c.raw === c.socket ? 0 : c.raw.writableLength);
          if (queued > this.o.limits.maxPlayerBufferBytes) {
            this.o.log.warn(
              { sessionId: c.sessionId, remoteAddress: c.address, queuedBytes: queued, limit: this.o.limits.maxPlayerBufferBytes },
              'RTMP player reads slower than the stream; disconnected (INGEST_RTMP_MAX_PLAYER_BUFFER_BYTES)',
            );
            this.drop(c, 'player_backlog');
          }
          break;
        }
      }
    }
  }
}
