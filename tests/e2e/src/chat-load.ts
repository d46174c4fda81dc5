/**
 * A steady chat load over the WebSocket path: a few signed-in senders, each on its own connection to the realtime
 * edge, each sending one `chat.send` every `intervalMs` to one channel and counting the outcome (docs/chat.md
 * "realtime WebSocket additions": `chat.ack` or an `error` frame with the same `nonce`). A sender whose socket closes
 * reconnects (every `intervalMs`) and subscribes again; sends due while it has no connection count as failed
 * (`no_connection`). Every attempt is tagged with the current {@link ChatLoad.phase}, so a fault test can say how
 * many sends failed while which process was down.
 */
import { randomUUID } from 'node:crypto';
import { connectEdge, type EdgeClient } from './ws-client.js';
import type { TestAccount } from './accounts.js';

/**
 * How one send ended: acknowledged, refused with an error code, no answer within the timeout, socket closed before
 * the answer, or never sent (no connection); `pending` while in flight.
 */
export type SendOutcome = 'pending' | 'ack' | 'error' | 'timeout' | 'closed' | 'no_connection';

/** One `chat.send` attempt. */
export interface SendAttempt {
  phase: string;
  sender: string;
  text: string;
  outcome: SendOutcome;
  /** The message id from `chat.ack` (outcome `ack`). */
  messageId?: string;
  /** The error frame's `code` (outcome `error`). */
  code?: string;
  at: number;
}

export interface ChatLoadOptions {
  /** ws://…/ws of the edge. */
  edgeUrl: string;
  /** Channel (owner's username) to send to. */
  channel: string;
  senders: TestAccount[];
  /** Milliseconds between two sends of one sender (default 250: 4/s, under the edge's 10/s per connection). */
  intervalMs?: number;
  /** How long a send waits for its ack before it counts as `timeout` (default 5000 ms). */
  ackTimeoutMs?: number;
}

/** A running chat load; {@link stop} ends it after the sends in flight have an outcome. */
export class ChatLoad {
  /** Tag of attempts started from now on. */
  phase = 'warm-up';
  readonly attempts: SendAttempt[] = [];
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(private readonly o: ChatLoadOptions) {
    this.loops = o.senders.map((s) => this.senderLoop(s));
  }

  private async connect(sender: TestAccount): Promise<EdgeClient | null> {
    try {
      const c = await connectEdge(`${this.o.edgeUrl}?token=${encodeURIComponent(sender.token)}`);
      const f = await c.request({ type: 'subscribe', channel: this.o.channel }, (x) => x.type === 'subscribed' || x.type === 'error' || x.type === '__closed', 5000);
      if (f.type === 'subscribed') return c;
      await c.close().catch(() => undefined);
    } catch {
      // edge not reachable (yet)
    }
    return null;
  }

  private async senderLoop(sender: TestAccount): Promise<void> {
    const interval = this.o.intervalMs ?? 250;
    let client: EdgeClient | null = null;
    const inflight: Promise<void>[] = [];
    let n = 0;
    while (this.running) {
      const next = Date.now() + interval;
      const closed = client?.frames.some((f) => f.type === '__closed') ?? true;
      if (closed) client = await this.connect(sender);
      const text = `${sender.username} #${++n} ${randomUUID().slice(0, 8)}`;
      const attempt: SendAttempt = { phase: this.phase, sender: sender.username, text, outcome: client ? 'pending' : 'no_connection', at: Date.now() };
      this.attempts.push(attempt);
      if (client) inflight.push(this.send(client, attempt));
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    await Promise.all(inflight);
    await client?.close().catch(() => undefined);
  }

  private async send(client: EdgeClient, attempt: SendAttempt): Promise<void> {
    const nonce = randomUUID();
    try {
      const f = await client.request(
        { type: 'chat.send', channel: this.o.channel, text: attempt.text, nonce },
        (x) => x['nonce'] === nonce || x.type === '__closed',
        this.o.ackTimeoutMs ?? 5000,
      );
      if (f.type === 'chat.ack') {
        attempt.outcome = 'ack';
        attempt.messageId = String(f['messageId']);
      } else if (f.type === '__closed') attempt.outcome = 'closed';
      else {
        attempt.outcome = 'error';
        attempt.code = String(f['code']);
      }
    } catch {
      attempt.outcome = 'timeout';
    }
  }

  /** Attempts of `phase` (all when omitted) that were not acknowledged (in-flight ones excluded). */
  failed(phase?: string): SendAttempt[] {
    return this.attempts.filter((a) => a.outcome !== 'ack' && a.outcome !== 'pending' && (phase === undefined || a.phase === phase));
  }

  /** Acknowledged attempts. */
  acked(): SendAttempt[] {
    return this.attempts.filter((a) => a.outcome === 'ack');
  }

  /** True when the attempts of the last `windowMs` that have an outcome (at least one per sender) were all acknowledged. */
  healthy(windowMs: number): boolean {
    const since = Date.now() - windowMs;
    const settled = this.attempts.filter((a) => a.at >= since && a.outcome !== 'pending');
    return settled.length >= this.o.senders.length && settled.every((a) => a.outcome === 'ack');
  }

  /**
   * Resolves once every attempt of an earlier phase has an outcome (at most the ack timeout), so that a fault caused
   * after it is never charged to the earlier phase. Call after setting {@link phase}.
   */
  async settled(): Promise<void> {
    while (this.attempts.some((a) => a.phase !== this.phase && a.outcome === 'pending')) await new Promise((r) => setTimeout(r, 20));
  }

  /** Stops sending and resolves once every send in flight has an outcome and the sockets are closed. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
