/**
 * WebSocket protocol edges (issue 9 item 6, protocol half) on the real uWebSockets.js edge, read with a raw TCP
 * client so that the close code and reason on the wire are seen exactly (RFC 6455 §5.5.1, §7.4.1):
 * - a frame over the edge's limit (16 KiB) up to the transport's (64 KiB) closes with 1009 and a reason naming the
 *   limit; a larger one is dropped by uWS (no close frame, 1006), that connection only;
 * - a frame between 4 and 16 KiB gets the `message_too_large` error frame and the connection stays;
 * - invalid UTF-8 in a text frame: uWS drops the connection itself (no close frame; 1006 at the client) — see
 *   gateway.ts for why 1007 cannot be sent with uws-pack 20.0.8;
 * - other connections are unaffected throughout.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WS_CLOSE_CODES, WS_MAX_FRAME_BYTES, WS_TRANSPORT_MAX_FRAME_BYTES } from '@eventcast/contracts';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { startRealtime, type RealtimeServer } from './server.js';
import { openClient, type TestClient } from './test-support.js';

const logger = createLogger('realtime-close-codes-test');
logger.level = process.env['LOG_LEVEL'] ?? 'warn';

/** What the server did to a raw connection: its close frame (code, reason), or a TCP close without one (1006). */
interface RawClose {
  code: number;
  reason: string;
  /** Text frames received before the close. */
  texts: string[];
}

/** A raw WebSocket client: HTTP upgrade by hand, masked frames written as given, server frames parsed. */
class RawClient {
  private buffer = Buffer.alloc(0);
  private upgraded = false;
  readonly texts: string[] = [];
  readonly closed: Promise<RawClose>;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      let frame: RawClose | null = null;
      socket.on('data', (chunk: Buffer) => {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        if (!this.upgraded) {
          const end = this.buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          assert.match(this.buffer.subarray(0, end).toString(), /^HTTP\/1\.1 101/);
          this.buffer = this.buffer.subarray(end + 4);
          this.upgraded = true;
        }
        for (;;) {
          const f = this.parse();
          if (!f) break;
          if (f.opcode === 1) this.texts.push(f.payload.toString());
          if (f.opcode === 8) frame = { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString(), texts: this.texts };
        }
      });
      socket.on('close', () => resolve(frame ?? { code: 1006, reason: '', texts: this.texts }));
      socket.on('error', () => undefined);
    });
  }

  /** Connects and upgrades `/ws` on `port`; resolves once the 101 and the welcome frame arrived. */
  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new RawClient(socket);
    socket.write(
      `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const deadline = Date.now() + 5000;
    while (client.texts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.match(client.texts[0] ?? '', /"welcome"/);
    return client;
  }

  /** Writes one masked client frame (RFC 6455 §5.2) with `opcode` and `payload`. */
  sendFrame(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const len = payload.length;
    const header = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (len >= 126 && len < 65536) {
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(len, 2);
    } else if (len >= 65536) {
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(len), 2);
    }
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i] = masked[i]! ^ mask[i % 4]!;
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Ends the TCP connection. */
  destroy(): void {
    this.socket.destroy();
  }

  /** One unmasked server frame from the buffer, or null when incomplete. */
  private parse(): { opcode: number; payload: Buffer } | null {
    const b = this.buffer;
    if (b.length < 2) return null;
    let len = b[1]! & 0x7f;
    let offset = 2;
    if (len === 126) {
      if (b.length < 4) return null;
      len = b.readUInt16BE(2);
      offset = 4;
    } else if (len === 127) {
      if (b.length < 10) return null;
      len = Number(b.readBigUInt64BE(2));
      offset = 10;
    }
    if (b.length < offset + len) return null;
    this.buffer = b.subarray(offset + len);
    return { opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + len) };
  }
}

let nats: PrivateNatsServer;
let server: RealtimeServer;
/** A well-behaved client open for the whole file: it must never notice the others' bad frames. */
let bystander: TestClient;

before(async () => {
  nats = await startPrivateNats();
  server = await startRealtime({
    config: { ...loadConfig(), NATS_URL: nats.url, REALTIME_PORT: 0, HOST: '127.0.0.1' },
    logger,
    waitForRelay: true,
    edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0 },
  });
  bystander = await openClient(server.port);
});

after(async () => {
  await bystander.close();
  await server.close();
  await nats.dispose();
});

/** The bystander still gets answers. */
async function bystanderFine(): Promise<void> {
  assert.equal((await bystander.request({ type: 'ping' }, (f) => f.type === 'pong')).type, 'pong');
}

void describe('WebSocket close codes', () => {
  for (const size of [WS_MAX_FRAME_BYTES + 1, 32 * 1024, WS_TRANSPORT_MAX_FRAME_BYTES]) {
    void test(`a ${size}-byte text frame closes the connection with 1009 and a reason`, async () => {
      const c = await RawClient.open(server.port);
      c.sendFrame(1, Buffer.from(JSON.stringify({ type: 'ping', pad: 'x'.repeat(size) }).slice(0, size)));
      const closed = await c.closed;
      assert.equal(closed.code, WS_CLOSE_CODES.messageTooBig);
      assert.match(closed.reason, new RegExp(`message too big.*${WS_MAX_FRAME_BYTES} bytes`));
      await bystanderFine();
    });
  }

  void test('a frame above the transport limit is dropped by uWS without a close frame (1006), that connection only', async () => {
    const c = await RawClient.open(server.port);
    c.sendFrame(1, Buffer.from(JSON.stringify({ type: 'ping', pad: 'x'.repeat(WS_TRANSPORT_MAX_FRAME_BYTES) })));
    const closed = await c.closed;
    assert.equal(closed.code, 1006);
    await bystanderFine();
  });

  void test('a binary frame over the limit closes with 1009 too', async () => {
    const c = await RawClient.open(server.port);
    c.sendFrame(2, randomBytes(WS_MAX_FRAME_BYTES + 100));
    assert.equal((await c.closed).code, WS_CLOSE_CODES.messageTooBig);
    await bystanderFine();
  });

  void test('a frame between 4 KiB and the limit gets message_too_large and the connection stays open', async () => {
    const c = await RawClient.open(server.port);
    c.sendFrame(1, Buffer.from(JSON.stringify({ type: 'ping', pad: 'x'.repeat(8 * 1024) })));
    c.sendFrame(1, Buffer.from(JSON.stringify({ type: 'ping' })));
    const deadline = Date.now() + 5000;
    while (!c.texts.some((t) => t.includes('"pong"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(c.texts.some((t) => t.includes('message_too_large')), c.texts.join('\n'));
    assert.ok(c.texts.some((t) => t.includes('"pong"')));
    c.destroy();
    await bystanderFine();
  });

  void test('invalid UTF-8 in a text frame: the transport drops that connection only', async () => {
    const c = await RawClient.open(server.port);
    c.sendFrame(1, Buffer.from([0x7b, 0xc3, 0x28, 0x7d])); // "{" + an invalid 2-byte sequence + "}"
    const closed = await c.closed;
    // uWS validates UTF-8 before the edge sees the frame and closes the TCP connection without a close frame.
    assert.equal(closed.code, 1006);
    await bystanderFine();
  });
});
