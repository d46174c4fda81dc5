/**
 * A raw RTMP client for the ingest's hostile-input tests: plain TCP sockets from a chosen source address
 * (127.0.0.x: Linux routes all of 127/8 to loopback), the RTMP 1.0 handshake (spec §5.2, simple variant), chunk
 * headers crafted by hand, and `connect` / `createStream` / `publish` commands encoded with node-media-server's own
 * AMF0 encoder and chunker. Server messages are parsed with NMS's `Rtmp` parser, the AMF0 commands decoded, so a test
 * can read the `onStatus` the ingest answered.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(import.meta.url);

interface RtmpPacketLike {
  header: { fmt: number; cid: number; timestamp: number; length: number; type: number; stream_id: number };
  clock: number;
  payload: Buffer;
  capacity: number;
  bytes: number;
}
interface RtmpParserLike {
  handshakeState: number;
  parserPacket: RtmpPacketLike;
  invokeHandler(): void;
  dataHandler(): void;
  parserData(buffer: Buffer): string | null;
}
interface RtmpClass {
  new (): RtmpParserLike;
  chunksCreate(packet: RtmpPacketLike): Buffer;
}
const Rtmp = require('node-media-server/src/protocol/rtmp.js') as RtmpClass;
const AMF = require('node-media-server/src/protocol/amf.js') as {
  encodeAmf0Cmd(opt: Record<string, unknown>): Buffer;
  decodeAmf0Cmd(buf: Buffer): Record<string, unknown>;
};

/** A decoded AMF0 command the server sent (`cmd`, `transId`, `cmdObj`, `info`, …). */
export type ServerCommand = Record<string, unknown> & { cmd?: unknown; info?: unknown };

/** A raw client connection. */
export interface RawRtmp {
  socket: net.Socket;
  /** Resolves when the server closed the connection (or it errored), with the ms since connect. */
  closed: Promise<number>;
  /** Whether the socket is closed now. */
  isClosed(): boolean;
  /** Commands received from the server so far (after the handshake). */
  commands: ServerCommand[];
  write(data: Buffer): Promise<void>;
}

/**
 * Opens a TCP connection to 127.0.0.1:`port` from `localAddress` (default 127.0.0.1).
 * @throws {Error} when the connection cannot be made.
 */
export function rawConnect(port: number, localAddress = '127.0.0.1'): Promise<RawRtmp> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    const commands: ServerCommand[] = [];
    let closedFlag = false;
    const closed = new Promise<number>((r) => socket.once('close', () => {
      closedFlag = true;
      r(Date.now() - t0);
    }));
    socket.on('error', () => undefined);
    // Keep reading (flowing mode) so a close by the server is noticed even when the test reads nothing.
    socket.on('data', () => undefined);
    socket.once('connect', () => {
      resolve({
        socket,
        closed,
        isClosed: () => closedFlag,
        commands,
        write: (data) =>
          new Promise<void>((res) => {
            if (closedFlag || socket.destroyed) return res();
            socket.write(data, () => res());
          }),
      });
    });
    socket.once('error', reject);
  });
}

/** Reads exactly `n` bytes from `socket` (the handshake). @throws {Error} when the socket closes first. */
function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= n) {
        socket.off('data', onData);
        socket.off('close', onClose);
        if (got.length > n) socket.unshift(got.subarray(n));
        resolve(got.subarray(0, n));
      }
    };
    const onClose = () => reject(new Error(`closed after ${got.length} of ${n} handshake bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/**
 * Performs the simple RTMP handshake (C0 = 3, C1 random, C2 = S1) and then parses server messages into
 * `conn.commands`.
 * @throws {Error} when the server closes during the handshake.
 */
export async function handshake(conn: RawRtmp): Promise<void> {
  const c1 = Buffer.concat([Buffer.alloc(8), randomBytes(1528)]);
  await conn.write(Buffer.concat([Buffer.from([3]), c1]));
  const s0s1s2 = await readExactly(conn.socket, 1 + 1536 + 1536);
  await conn.write(s0s1s2.subarray(1, 1537));
  const parser = new Rtmp();
  parser.handshakeState = 3; // RTMP_HANDSHAKE_2: straight to chunk parsing
  parser.invokeHandler = function (this: RtmpParserLike) {
    const p = this.parserPacket;
    conn.commands.push(AMF.decodeAmf0Cmd(p.payload.subarray(0, p.header.length)));
  };
  parser.dataHandler = () => undefined;
  conn.socket.on('data', (d: Buffer) => {
    try {
      parser.parserData(d);
    } catch {
      // the test looks at what was decoded before
    }
  });
}

/** Set Chunk Size (protocol control message type 1 on chunk stream 2, RTMP 1.0 spec §5.4.1). */
export function setChunkSizeMessage(size: number): Buffer {
  const b = Buffer.from('02000000000004010000000000000000', 'hex');
  b.writeUInt32BE(size, 12);
  return b;
}

/** An AMF0 command message (type 20) on chunk stream 3, chunked at 65535 bytes (send {@link setChunkSizeMessage} first). */
export function commandMessage(streamId: number, opt: Record<string, unknown>): Buffer {
  const payload = AMF.encodeAmf0Cmd(opt);
  return Rtmp.chunksCreate({
    header: { fmt: 0, cid: 3, timestamp: 0, length: payload.length, type: 20, stream_id: streamId },
    clock: 0,
    payload,
    capacity: payload.length,
    bytes: 0,
  });
}

/**
 * A type-0 chunk header announcing a message of `length` bytes (≤ 0xFFFFFF) of type 9 (video) on chunk stream
 * `csid` (3–65599; 2- and 3-byte basic headers as RTMP 1.0 spec §5.3.1.1), followed by `payloadBytes` of zeros.
 */
export function announceMessage(csid: number, length: number, payloadBytes = 100): Buffer {
  let basic: Buffer;
  if (csid < 64) basic = Buffer.from([csid]);
  else if (csid < 320) basic = Buffer.from([0, csid - 64]);
  else basic = Buffer.from([1, (csid - 64) & 0xff, (csid - 64) >> 8]);
  const header = Buffer.alloc(11);
  header.writeUIntBE(0, 0, 3);
  header.writeUIntBE(length, 3, 3);
  header[6] = 9;
  header.writeUInt32LE(1, 7);
  return Buffer.concat([basic, header, Buffer.alloc(payloadBytes)]);
}

/** `connect` (app, tcUrl), `createStream` and `publish` of `key`, as ffmpeg sends them. */
export function publishSequence(port: number, key: string, app = 'live'): Buffer {
  return Buffer.concat([
    setChunkSizeMessage(65535),
    commandMessage(0, { cmd: 'connect', transId: 1, cmdObj: { app, type: 'nonprivate', flashVer: 'FMLE/3.0', tcUrl: `rtmp://127.0.0.1:${port}/${app}` } }),
    commandMessage(0, { cmd: 'createStream', transId: 2, cmdObj: null }),
    commandMessage(1, { cmd: 'publish', transId: 3, cmdObj: null, streamName: key, type: 'live' }),
  ]);
}

/** The `info` object of the first `onStatus` whose code matches, or undefined. */
export function onStatus(conn: RawRtmp, code?: RegExp): Record<string, unknown> | undefined {
  for (const c of conn.commands) {
    if (c.cmd !== 'onStatus' || typeof c.info !== 'object' || c.info === null) continue;
    const info = c.info as Record<string, unknown>;
    if (!code || code.test(String(info['code']))) return info;
  }
  return undefined;
}

/** `connect` (app, tcUrl), `createStream` and `play` of `key`, as an RTMP player (ffmpeg's rtmp input) sends them. */
export function playSequence(port: number, key: string, app = 'live'): Buffer {
  return Buffer.concat([
    setChunkSizeMessage(65535),
    commandMessage(0, { cmd: 'connect', transId: 1, cmdObj: { app, flashVer: 'LNX 9,0,124,2', tcUrl: `rtmp://127.0.0.1:${port}/${app}` } }),
    commandMessage(0, { cmd: 'createStream', transId: 2, cmdObj: null }),
    commandMessage(1, { cmd: 'play', transId: 3, cmdObj: null, streamName: key, start: -2 }),
  ]);
}
