/**
 * Test double of the command side on the real NATS server, speaking the @nestjs/microservices NATS wire format:
 * request JSON `{ pattern, data, id }` on subject = pattern, reply JSON `{ response, isDisposed: true, id }` to the
 * message's reply inbox (what `ServerNats` sends for a handler returning a value; see
 * node_modules/@nestjs/microservices/server/server.js and deserializers/incoming-response.deserializer.js).
 * A handler returning `undefined` sends no reply (to test timeouts).
 */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** One request the fake received. */
export interface ReceivedCall {
  pattern: string;
  data: Record<string, unknown>;
  /** The raw request body, to assert what travelled on the wire. */
  raw: string;
}

/** Handler per pattern (without prefix); returns the `response` or undefined for "no reply". */
export type FakeHandlers = Record<string, (data: Record<string, unknown>) => unknown>;

/** A fake command side subscribed to `<prefix><pattern>` for each handler. */
export class FakeCommandSide {
  readonly calls: ReceivedCall[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly subs: Subscription[],
  ) {}

  /** Connects to NATS (`NATS_URL` or 127.0.0.1:4222) and subscribes. `handlers` may be mutated later by the test. */
  static async start(prefix: string, handlers: FakeHandlers): Promise<FakeCommandSide> {
    const nc = await connect({ servers: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222' });
    const subs: Subscription[] = [];
    const fake = new FakeCommandSide(nc, subs);
    for (const pattern of Object.keys(handlers)) {
      subs.push(
        nc.subscribe(prefix + pattern, {
          callback: (_err, msg) => {
            const raw = msg.string();
            const packet = JSON.parse(raw) as { pattern: string; data: Record<string, unknown>; id: string };
            fake.calls.push({ pattern, data: packet.data, raw });
            fake.waiters.splice(0).forEach((w) => w());
            const handler = handlers[pattern];
            // A handler may answer later (a Promise): e.g. a slow command side.
            void Promise.resolve(handler ? handler(packet.data) : undefined).then((response) => {
              if (response !== undefined && msg.reply) msg.respond(JSON.stringify({ response, isDisposed: true, id: packet.id }));
            });
          },
        }),
      );
    }
    await nc.flush();
    return fake;
  }

  /**
   * Waits for a call of `pattern` matching `pred` (default: any), including calls already received.
   * @throws {Error} after `timeoutMs`.
   */
  async waitFor(pattern: string, pred: (c: ReceivedCall) => boolean = () => true, timeoutMs = 15_000): Promise<ReceivedCall> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.calls.find((c) => c.pattern === pattern && pred(c));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Unsubscribes and closes the NATS connection. */
  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await this.nc.close();
  }
}
