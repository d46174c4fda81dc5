/**
 * Test helpers (used by *.test.ts only): a promise-based WebSocket client on Node 22's global `WebSocket`,
 * realistic wire events, and polling.
 */
import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { SignJWT } from 'jose';
import { EVENTS_SUBJECT_PREFIX, channelTokenOf, validateEventData, type WireEvent } from '@eventcast/events';

/** A server frame as received by a test client (loosely typed on purpose). */
export type Frame = { type: string; [k: string]: unknown };

/** A connected test client that records every frame it receives. */
export interface TestClient {
  frames: Frame[];
  /** Sends a JSON value, or a raw string / bytes as-is. */
  send(data: unknown): void;
  sendRaw(data: string | Uint8Array): void;
  /** Waits for the first frame at index ≥ `from` (received so far or later) matching `pred`; rejects after `timeoutMs`. */
  next(pred: (f: Frame) => boolean, timeoutMs?: number, from?: number): Promise<Frame>;
  /** Sends `data` and waits for the first later frame matching `pred`. */
  request(data: unknown, pred: (f: Frame) => boolean): Promise<Frame>;
  /** Resolves with the close code once the socket is closed. */
  closed: Promise<number>;
  close(): Promise<number>;
}

/** Opens `ws://127.0.0.1:<port>/ws` (with `?token=` when given) and waits for the `welcome` frame. */
export async function openClient(port: number, token?: string): Promise<TestClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${token === undefined ? '' : `?token=${encodeURIComponent(token)}`}`);
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.addEventListener('message', (e: MessageEvent) => {
    frames.push(JSON.parse(String(e.data)) as Frame);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (e) => resolve(e.code)));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('websocket error')));
  });
  const client: TestClient = {
    frames,
    send: (data) => ws.send(JSON.stringify(data)),
    sendRaw: (data) => ws.send(data),
    next: (pred, timeoutMs = 5000, start = 0) =>
      new Promise<Frame>((resolve, reject) => {
        const check = (): void => {
          const i = frames.slice(start).findIndex(pred);
          if (i >= 0) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(frames[start + i] as Frame);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for a frame; got ${JSON.stringify(frames)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    request: (data, pred) => {
      const from = frames.length;
      ws.send(typeof data === 'string' ? data : JSON.stringify(data));
      return client.next(pred, 5000, from);
    },
    closed,
    close: () => {
      ws.close(1000);
      return closed;
    },
  };
  await client.next((f) => f.type === 'welcome');
  return client;
}

/** Polls `fn` every 50 ms until `ok(value)`; returns the last value (the caller asserts on it). */
export async function poll<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    v = await fn();
  }
  return v;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let position = BigInt(Date.now()) * 1000n;

/** A realistic wire envelope (docs/contracts.md) of a catalog event; `metadata.test` marks it as test traffic. */
export function wireEvent(type: string, data: unknown, streamName: string): WireEvent {
  position += 1n;
  return {
    id: randomUUID(),
    type,
    version: 1,
    streamName,
    revision: '0',
    globalPosition: position.toString(),
    occurredAt: new Date().toISOString(),
    data,
    metadata: { correlationId: randomUUID(), test: 'apps/realtime' },
  };
}

/** A valid `BroadcastStarted` for `username` (checked against the catalog, so a schema change fails loudly). */
export function broadcastStarted(username: string, channelId = randomUUID(), broadcastId = randomUUID()): WireEvent {
  return wireEvent(
    'BroadcastStarted',
    validateEventData('BroadcastStarted', 1, {
      broadcastId,
      channelId,
      username,
      startedAt: new Date().toISOString(),
      media: {
        videoCodec: 'H264',
        audioCodec: 'AAC',
        width: 1280,
        height: 720,
        frameRate: 30,
        videoBitrateKbps: 2500,
        audioSampleRate: 48000,
        audioChannels: 2,
      },
    }),
    `broadcast-${channelId}`,
  );
}

/** A valid `BroadcastEnded` closing the broadcast of a {@link broadcastStarted} event. */
export function broadcastEnded(started: WireEvent): WireEvent {
  const s = started.data as { broadcastId: string; channelId: string; username: string };
  return wireEvent(
    'BroadcastEnded',
    validateEventData('BroadcastEnded', 1, {
      broadcastId: s.broadcastId,
      channelId: s.channelId,
      username: s.username,
      reason: 'unpublished',
      endedAt: new Date().toISOString(),
      durationMs: 1000,
    }),
    started.streamName,
  );
}

/** A valid `ChannelInfoUpdated` for `username`. */
export function channelInfoUpdated(username: string, channelId = randomUUID()): WireEvent {
  return wireEvent(
    'ChannelInfoUpdated',
    validateEventData('ChannelInfoUpdated', 1, { channelId, username, title: 'Speedrun', category: 'Games' }),
    `account-${channelId}`,
  );
}

/**
 * Publishes a wire event to JetStream the way the command side does (subject `eventcast.events.<category>.<channel>.<type>`,
 * headers, `msgID` = event id).
 */
export async function publishEvent(js: JetStreamClient, ev: WireEvent, category: string): Promise<void> {
  const h = headers();
  h.set('Eventcast-Global-Position', ev.globalPosition);
  h.set('Eventcast-Stream', ev.streamName);
  h.set('Eventcast-Revision', ev.revision);
  h.set('Eventcast-Event-Type', ev.type);
  h.set('Eventcast-Event-Version', String(ev.version));
  await js.publish(`${EVENTS_SUBJECT_PREFIX}.${category}.${channelTokenOf(ev.data)}.${ev.type}`, JSON.stringify(ev), { msgID: ev.id, headers: h });
}

/** A valid chat event of the catalog for the room `channelId`/`username` (stream `chat-<channelId>`). */
export function chatEvent(type: string, channelId: string, username: string, data: Record<string, unknown>): WireEvent {
  return wireEvent(type, validateEventData(type, 1, { channelId, username, ...data }), `chat-${channelId}`);
}

/** A valid `ChatMessageSent`; `visibleAt` defaults to now. */
export function chatMessageSent(channelId: string, username: string, text: string, visibleAt = new Date()): WireEvent {
  return chatEvent('ChatMessageSent', channelId, username, {
    messageId: randomUUID(),
    senderId: randomUUID(),
    senderName: 'some_sender',
    senderRole: 'viewer',
    text,
    maskedTerms: 0,
    visibleAt: visibleAt.toISOString(),
  });
}

/** Signs an access token like command-api does (HS256, `sub`, `username`); `expiresIn` as jose accepts it. */
export function signToken(secret: string, sub: string, username: string, expiresIn: string | number = '1h'): Promise<string> {
  return new SignJWT({ username })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
