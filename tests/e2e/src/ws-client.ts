/**
 * A small WebSocket test client for the realtime edge (Node 22's global WebSocket): records every frame and waits
 * for frames matching a predicate.
 */

/** The socket closed while a test waited for a frame. */
export class SocketClosedError extends Error {
  constructor(readonly code: unknown) {
    super(`websocket closed with code ${String(code)}`);
    this.name = 'SocketClosedError';
  }
}

/** A decoded server frame. */
export type Frame = { type: string; [key: string]: unknown };

export interface EdgeClient {
  frames: Frame[];
  send(msg: unknown): void;
  sendRaw(text: string): void;
  /** The first frame (already received or future) after index `from` matching `pred`. */
  next(pred: (f: Frame) => boolean, timeoutMs?: number, from?: number): Promise<Frame>;
  /** Sends `msg` and waits for the first later frame matching `pred`. */
  request(msg: unknown, pred: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame>;
  close(): Promise<void>;
}

/**
 * Connects to `url` (ws://…/ws, optionally with ?token=) and waits for the `welcome` frame.
 * @throws {SocketClosedError} when the socket closes first.
 */
export async function connectEdge(url: string): Promise<EdgeClient> {
  const ws = new WebSocket(url);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.addEventListener('message', (ev: MessageEvent) => {
    frames.push(JSON.parse(String(ev.data)) as Frame);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<void>((r) =>
    ws.addEventListener('close', (ev: CloseEvent) => {
      // Recorded like a frame so a test waiting for a reply says the socket closed instead of timing out blindly.
      frames.push({ type: '__closed', code: ev.code, reason: ev.reason });
      for (const w of [...waiters]) w();
      r();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)));
  });
  const client: EdgeClient = {
    frames,
    send: (msg) => ws.send(JSON.stringify(msg)),
    sendRaw: (text) => ws.send(text),
    next(pred, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const f = frames.slice(from).find(pred);
          if (f) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(f);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching frame within ${timeoutMs} ms; last frames: ${JSON.stringify(frames.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    request(msg, pred, timeoutMs) {
      const from = frames.length;
      client.send(msg);
      return client.next(pred, timeoutMs, from);
    },
    async close() {
      ws.close();
      await closed;
    },
  };
  const first = await client.next((f) => f.type === 'welcome' || f.type === '__closed');
  if (first.type === '__closed') throw new SocketClosedError(first['code']);
  return client;
}
