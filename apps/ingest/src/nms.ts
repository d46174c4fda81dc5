/**
 * node-media-server 4.4 (CommonJS, untyped) behind a small typed surface.
 *
 * What we rely on (read from its source, node_modules/node-media-server/src):
 * - `new NodeMediaServer(config)`; only the RTMP listener is started (`rtmpServer.run()`), not `run()`: that would also
 *   open the JSON store whose history collection persists stream names (= stream keys) to disk, and HTTP-FLV when
 *   `http.port` is set. No `http`/`https`/`record`/`notify` sections → none of those listeners exist.
 * - Events on `nms.on(name, (session) => …)`: `prePublish` and `postPublish` are emitted synchronously in that order
 *   when a client publishes (before NMS checks for a second publisher), `donePublish` when the publish ends —
 *   `broadcast.publishGraceMs` after the socket closed (ARCHITECTURE.md: "30 s publish grace period").
 *   `prePlay` for RTMP players. The RTMP guard (./rtmp-guard.ts) holds each `publish` until the command side allowed
 *   it, so these events only fire for authorized publishes.
 * - `session.close()` ends the socket (works after an async check); its later events must be ignored by us.
 * - Session fields: `id`, `ip` (`address:port`), `streamApp`, `streamName`, `isPublisher` (true once NMS accepted the
 *   publish), media fields from onMetaData (see media-info.ts), `broadcast.publisher`, `socket`.
 * - Its logger prints plain text lines with `console.log`; {@link bridgeNmsLogs} sends them to pino, redacted.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Logger } from '@eventcast/platform';
import type { SessionMediaFields } from './media-info.js';
import { redactNmsMessage } from './redact.js';

/** The part of an NMS session (RtmpSession) the ingest uses. */
export interface NmsSession extends SessionMediaFields {
  id: string;
  ip: string;
  protocol: string;
  streamApp: string;
  streamName: string;
  isPublisher: boolean;
  socket?: Socket;
  broadcast: { publishGraceMs: number; publisher: NmsSession | null };
  /** Bytes received on this session so far (NMS BaseSession `inBytes`; metrics only). */
  inBytes?: number;
  close(): void;
}

/** Event names of NMS 4 used here. */
export type NmsEvent = 'prePublish' | 'postPublish' | 'donePublish' | 'prePlay';

/** The part of the NodeMediaServer instance the ingest uses. */
export interface NmsServer {
  on(event: NmsEvent, listener: (session: NmsSession) => void): void;
  rtmpServer: {
    run(): void;
    tcpServer?: import('node:net').Server;
    /** Its `connection` listener: creates and runs an RtmpSession for the socket (./rtmp-guard.ts calls it). */
    handleRequest: (socket: Socket) => void;
  };
  stop(): Promise<void>;
}

type NmsCtor = new (config: Record<string, unknown>, configPath?: string) => NmsServer;
interface NmsLogger {
  level: string;
  log(message: string, level?: string): void;
}

const require = createRequire(import.meta.url);

/**
 * Replaces NMS's console logger with pino (component `nms`), stream keys redacted. Levels map 1:1; NMS `info`
 * chatter is logged at `debug` to keep the ingest's own lines readable.
 */
export function bridgeNmsLogs(log: Logger): void {
  const nmsLogger = require('node-media-server/src/core/logger.js') as NmsLogger;
  const child = log.child({ component: 'nms' });
  nmsLogger.log = (message: string, level = 'info') => {
    const text = redactNmsMessage(String(message));
    switch (level) {
      case 'error':
        child.error(text);
        break;
      case 'warn':
        child.warn(text);
        break;
      case 'trace':
        child.trace(text);
        break;
      default:
        child.debug(text);
    }
  };
}

/**
 * Creates the RTMP server (not yet listening) and returns it with a `listen()` that resolves once the port is bound.
 * @param bind listen address (`HOST`), @param port RTMP port (`INGEST_RTMP_PORT`).
 * @throws {Error} from `listen()` when the port cannot be bound.
 */
export function createNms(bind: string, port: number, log: Logger): { nms: NmsServer; listen: () => Promise<void> } {
  bridgeNmsLogs(log);
  const NodeMediaServer = require('node-media-server') as NmsCtor;
  const nms = new NodeMediaServer({ bind, rtmp: { port }, webadmin: { enable: false } });
  // Its constructor forces its logger to "debug"; our bridge decides what is printed.
  return {
    nms,
    listen: () =>
      new Promise<void>((resolve, reject) => {
        const server = nms.rtmpServer.tcpServer;
        if (!server) {
          reject(new Error('RTMP server was not created'));
          return;
        }
        server.once('listening', () => resolve());
        server.once('error', reject);
        nms.rtmpServer.run();
      }),
  };
}
