/**
 * A raw RFC 6455 WebSocket client over a TCP socket, for hostile-input tests: unlike the platform's WebSocket class it
 * can send what a browser never would — text frames with invalid UTF-8, oversize frames, binary frames — and it tells a
 * clean close (a close frame with its status code and reason, RFC 6455 §5.5.1) from a connection that was just dropped
 * (what a browser reports as 1006). Client frames are masked (§5.3); server frames are read unfragmented or fragmented.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Opcodes of RFC 6455 §5.2. */
export const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** How the connection ended: `closeFrame` is null when the server dropped the TCP connection without a close frame. */
export interface RawClose {
  closeFrame: { code: number | null; reason: string } | null;
}

/** A connected raw client. `texts` holds every text frame received so far, decoded as UTF-8. */
export interface RawWsClient {
  texts: string[];
  /** Resolves when the TCP connection has ended. */
  ended: Promise<RawClose>;
  /** True once the connection has ended. */
  isEnded(): boolean;
  /** Sends one complete (FIN) frame with the given opcode and payload. */
  sendFrame(opcode: number, payload: Buffer): void;
  sendText(text: string): void;
  /** Waits until a received text frame (from index `from`) satisfies `pred`, or the connection ends (→ null). */
  waitText(pred: (text: string) => boolean, from: number, timeoutMs: number): Promise<string | null>;
  destroy(): void;
}

/**
 * Opens `ws://host:port/path` (the `url`) with a plain HTTP/1.1 upgrade.
 * @throws {Error} when the server does not answer `101 Switching Protocols` within 5 s.
 */
export async function connectRaw(url: string): Promise<RawWsClient> {
  const u = new URL(url);
  const socket: Socket = connect({ host: u.hostname, port: Number(u.port) });
  const key = randomBytes(16).toString('base64');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.write(
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let buf = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no upgrade answer from ${url}`)), 5000);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      socket.off('data', onData);
      clearTimeout(timer);
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`));
      else resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });

  const texts: string[] = [];
  const waiters = new Set<() => void>();
  let closeFrame: RawClose['closeFrame'] = null;
  let ended = false;
  let fragments: Buffer[] = [];
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  const parse = (): void => {
    for (;;) {
      if (buf.length < 2) return;
      const b0 = buf[0]!;
      const b1 = buf[1]!;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      if (buf.length < off + len) return;
      const payload = buf.subarray(off, off + len);
      buf = buf.subarray(off + len);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === OPCODE.close) {
        closeFrame = { code: payload.length >= 2 ? payload.readUInt16BE(0) : null, reason: payload.subarray(2).toString('utf8') };
      } else if (opcode === OPCODE.text || opcode === OPCODE.continuation) {
        fragments.push(Buffer.from(payload));
        if (fin) {
          texts.push(Buffer.concat(fragments).toString('utf8'));
          fragments = [];
          wake();
        }
      }
    }
  };
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    parse();
  });
  socket.on('error', () => undefined);
  const endedPromise = new Promise<RawClose>((resolve) =>
    socket.once('close', () => {
      ended = true;
      wake();
      resolve({ closeFrame });
    }),
  );
  parse();

  const client: RawWsClient = {
    texts,
    ended: endedPromise,
    isEnded: () => ended,
    sendFrame(opcode, payload) {
      if (ended || socket.destroyed) return;
      const mask = randomBytes(4);
      const masked = Buffer.alloc(payload.length);
      for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
      let header: Buffer;
      if (payload.length < 126) {
        header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
      } else if (payload.length < 65536) {
        header = Buffer.alloc(4);
        header[0] = 0x80 | opcode;
        header[1] = 0x80 | 126;
        header.writeUInt16BE(payload.length, 2);
      } else {
        header = Buffer.alloc(10);
        header[0] = 0x80 | opcode;
        header[1] = 0x80 | 127;
        header.writeBigUInt64BE(BigInt(payload.length), 2);
      }
      socket.write(Buffer.concat([header, mask, masked]));
    },
    sendText(text) {
      client.sendFrame(OPCODE.text, Buffer.from(text, 'utf8'));
    },
    waitText(pred, from, timeoutMs) {
      return new Promise((resolve) => {
        const check = (): void => {
          const hit = texts.slice(from).find(pred);
          if (hit !== undefined || ended) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit ?? null);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(null);
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    destroy() {
      socket.destroy();
    },
  };
  return client;
}
