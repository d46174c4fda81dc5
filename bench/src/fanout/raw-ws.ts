/**
 * A minimal raw-TCP WebSocket client for bulk receivers of the chat fan-out benchmark. It does the HTTP Upgrade
 * handshake itself, then walks frame headers without decoding payloads: only the first few payload bytes are looked
 * at to tell a relayed event from other frames. Pings are answered (WebSocket opcode 9 → pong; Engine.IO `2` → `3`).
 * Reads go into one shared buffer (`net` `onread`), so a read allocates nothing; this keeps 2,500+ receivers
 * per process cheap enough that the clients are not the bottleneck.
 *
 * Two dialects:
 * - `eventcast`: `GET /ws`; on `welcome` it sends `subscribe` for the channel; ready on `subscribed`; counts frames
 *   starting with `{"type":"event"`.
 * - `engineio`: `GET /socket.io/?EIO=4&transport=websocket`; on the open packet (`0{…}`) it sends `40` (connect to
 *   namespace `/`); ready on `40…`; counts `42…` (socket.io EVENT packets); answers `2` with `3`.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Which server protocol the client speaks. */
export type Dialect = 'eventcast' | 'engineio';

/** Counters shared by all raw clients of one process. */
export interface RawCounters {
  /** Relayed data frames (Eventcast `event` frames / socket.io `42` packets). */
  delivered: number;
  /** Payload bytes of the counted frames. */
  deliveredBytes: number;
  /** Other data frames (welcome, presence, pong, connect acks…). */
  other: number;
  /** Pings answered (WebSocket and Engine.IO). */
  pings: number;
  /** Connections closed after they were ready. */
  closedAfterReady: number;
}

/** Where and how to connect. */
export interface RawTarget {
  dialect: Dialect;
  host: string;
  port: number;
  /** Eventcast channel (username) to subscribe to; unused for Engine.IO. */
  channel: string;
}

const SHARED = Buffer.allocUnsafe(256 * 1024);
const PEEK = 20;
const EVENT_PREFIX = Buffer.from('{"type":"event"');
const WELCOME_PREFIX = Buffer.from('{"type":"welcome"');
const SUBSCRIBED_PREFIX = Buffer.from('{"type":"subscribed"');

/** A masked (zero mask key: legal, the payload is unchanged) client text frame. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

function startsWith(buf: Buffer, at: number, len: number, prefix: Buffer): boolean {
  if (len < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[at + i] !== prefix[i]) return false;
  return true;
}

/** One raw client connection. */
export class RawWsClient {
  private socket: Socket | undefined;
  private handshake = '';
  private open = false;
  private ready = false;
  private readonly hdr = Buffer.alloc(256);
  private hl = 0;
  private want = 2;
  private skip = 0;
  private readyResolve: (() => void) | undefined;
  private readyReject: ((e: Error) => void) | undefined;
  private readonly pong3: Buffer = clientFrame(1, Buffer.from('3'));

  /**
   * @param target server and dialect
   * @param counters process-wide counters this client adds to
   * @param localAddress source address on loopback (127.x.y.z), to spread per-IP connection limits
   */
  constructor(
    private readonly target: RawTarget,
    private readonly counters: RawCounters,
    private readonly localAddress: string,
  ) {}

  /** Connects, upgrades and (Eventcast) subscribes; resolves when ready, rejects on error/close or after `timeoutMs`. */
  start(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('timeout')), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        this.readyResolve = undefined;
        this.readyReject = undefined;
        this.socket?.destroy();
        reject(e);
      };
      this.readyResolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.readyReject = fail;
      const { host, port, dialect } = this.target;
      const path = dialect === 'eventcast' ? '/ws' : '/socket.io/?EIO=4&transport=websocket';
      const s = connect({
        host,
        port,
        localAddress: this.localAddress,
        noDelay: true,
        onread: { buffer: SHARED, callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer) },
      });
      this.socket = s;
      s.on('connect', () => {
        s.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      s.on('error', (e) => this.readyReject?.(e));
      s.on('close', () => {
        if (this.ready) this.counters.closedAfterReady++;
        this.readyReject?.(new Error('closed before ready'));
      });
    });
  }

  /** Closes the TCP connection (no close handshake; the benchmark is over). */
  destroy(): void {
    this.ready = false;
    this.socket?.destroy();
  }

  private onRead(n: number, buf: Buffer): boolean {
    let off = 0;
    if (!this.open) {
      this.handshake += buf.toString('latin1', 0, n);
      const end = this.handshake.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.handshake.length > 8192) this.readyReject?.(new Error('handshake too long'));
        return true;
      }
      if (!this.handshake.startsWith('HTTP/1.1 101')) {
        this.readyReject?.(new Error(`upgrade refused: ${this.handshake.split('\r\n')[0] ?? ''}`));
        return true;
      }
      this.open = true;
      // bytes after the header block, counted in latin1 = bytes
      off = n - (this.handshake.length - end - 4);
      this.handshake = '';
    }
    this.feed(buf, off, n);
    return true;
  }

  private feed(buf: Buffer, start: number, end: number): void {
    let off = start;
    const hdr = this.hdr;
    while (off < end) {
      if (this.skip > 0) {
        const k = Math.min(this.skip, end - off);
        off += k;
        this.skip -= k;
        continue;
      }
      const k = Math.min(this.want - this.hl, end - off);
      buf.copy(hdr, this.hl, off, off + k);
      this.hl += k;
      off += k;
      if (this.hl < this.want) return;
      const b1 = (hdr[1] ?? 0) & 0x7f;
      const masked = ((hdr[1] ?? 0) & 0x80) !== 0;
      const hlen = 2 + (b1 === 126 ? 2 : b1 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (this.hl < hlen) {
        this.want = hlen;
        continue;
      }
      const plen = b1 < 126 ? b1 : b1 === 126 ? hdr.readUInt16BE(2) : hdr.readUIntBE(4, 6);
      const opcode = (hdr[0] ?? 0) & 0x0f;
      const peek = opcode >= 8 ? Math.min(plen, 125) : Math.min(plen, PEEK);
      if (this.hl < hlen + peek) {
        this.want = hlen + peek;
        continue;
      }
      this.onFrame(opcode, hlen, peek, plen);
      this.skip = plen - peek;
      this.hl = 0;
      this.want = 2;
    }
  }

  private onFrame(opcode: number, at: number, peek: number, plen: number): void {
    const hdr = this.hdr;
    const c = this.counters;
    if (opcode === 9) {
      c.pings++;
      this.socket?.write(clientFrame(0xa, Buffer.from(hdr.subarray(at, at + peek))));
      return;
    }
    if (opcode === 8) {
      this.socket?.end();
      return;
    }
    if (opcode !== 1 && opcode !== 2 && opcode !== 0) return;
    if (this.target.dialect === 'eventcast') {
      if (startsWith(hdr, at, peek, EVENT_PREFIX)) {
        c.delivered++;
        c.deliveredBytes += plen;
      } else {
        c.other++;
        if (!this.ready && startsWith(hdr, at, peek, WELCOME_PREFIX)) {
          this.socket?.write(clientFrame(1, Buffer.from(JSON.stringify({ type: 'subscribe', channel: this.target.channel }))));
        } else if (!this.ready && startsWith(hdr, at, peek, SUBSCRIBED_PREFIX)) {
          this.markReady();
        }
      }
      return;
    }
    // Engine.IO v4 text packets: 0 open, 2 ping, 4 message (socket.io: 40 connect, 42 event)
    const t0 = hdr[at];
    const t1 = hdr[at + 1];
    if (t0 === 0x34 && t1 === 0x32) {
      c.delivered++;
      c.deliveredBytes += plen;
      return;
    }
    c.other++;
    if (t0 === 0x32 && plen === 1) {
      c.pings++;
      this.socket?.write(this.pong3);
    } else if (t0 === 0x30) {
      this.socket?.write(clientFrame(1, Buffer.from('40')));
    } else if (t0 === 0x34 && t1 === 0x30 && !this.ready) {
      this.markReady();
    }
  }

  private markReady(): void {
    this.ready = true;
    const r = this.readyResolve;
    this.readyResolve = undefined;
    this.readyReject = undefined;
    r?.();
  }
}

/**
 * Connects `count` raw clients with at most `concurrency` handshakes in flight, spreading source addresses over
 * `localAddresses` round-robin; each failed connection is retried up to `retries` times.
 * @returns the ready clients and the number that never became ready
 */
export async function connectMany(
  target: RawTarget,
  counters: RawCounters,
  count: number,
  localAddresses: string[],
  opts: { concurrency: number; timeoutMs: number; retries: number; offset: number },
): Promise<{ clients: RawWsClient[]; failed: number; errors: string[] }> {
  const clients: RawWsClient[] = [];
  const errors: string[] = [];
  let failed = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        const addr = localAddresses[(opts.offset + i + attempt * 7) % localAddresses.length] ?? '127.0.0.1';
        const c = new RawWsClient(target, counters, addr);
        try {
          await c.start(opts.timeoutMs);
          clients.push(c);
          break;
        } catch (e) {
          if (errors.length < 5) errors.push(`${addr}: ${(e as Error).message}`);
          if (attempt >= opts.retries) {
            failed++;
            break;
          }
          await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  return { clients, failed, errors };
}

/** Loopback source addresses 127.0.<hi>.<lo> (lo 2…254), `n` of them. Linux routes all of 127/8 to `lo`. */
export function loopbackAddresses(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) out.push(`127.0.${Math.floor(i / 253)}.${(i % 253) + 2}`);
  return out;
}
