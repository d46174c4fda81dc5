/**
 * The floor of the chat command path: the least the fixed design (ARCHITECTURE.md: append to the event store, publish
 * on NATS/JetStream, project into PostgreSQL, push from a uWebSockets.js edge) must do per chat message, written as
 * lean as we know how, with none of the platform's code — no validation, authentication, idempotency, moderation,
 * webhooks or analytics — so the platform's command-path figures can be read against what this machine allows.
 *
 * Three processes, as the platform has (so the same CPU accounting applies), on a private nats-server with JetStream
 * and a fresh PostgreSQL database:
 * - **edge** (uWebSockets.js): the platform's frame protocol (./ws-load.ts); a room's `chat.send` frames of one event-loop
 *   turn go as ONE core-NATS request `floor.send` to the command process; the reply's positions become `chat.ack`s;
 *   a core-NATS subscription to `floor.events.>` fans each event out to the room's sockets with uWS pub/sub (the subject
 *   names the room: no parsing).
 * - **command**: per room, one batch at a time: ONE transaction inserting the batch's events with one
 *   `INSERT … SELECT FROM unnest(…)` (prepared) after moving the stream's revision with a compare-and-set (the
 *   expected-revision check); the reply right after the commit; then each event published to JetStream with its
 *   event id as `Nats-Msg-Id` (pipelined per batch, acks awaited together off the room's lane, a failed publish tried
 *   again). No outbox and no read-back: cheaper than the platform's at-least-once publisher, which must survive a
 *   crash between commit and publish (the floor need not).
 * - **projector**: a durable pull consumer with `AckPolicy.All`: whatever is delivered is applied in ONE transaction
 *   (`INSERT … FROM unnest(…) ON CONFLICT DO NOTHING` into the chat read model, and the checkpoint), then the last
 *   message of the batch is acked; a failed batch is tried again in place (a nak would be acked by the next batch's
 *   AckAll).
 *
 * Events and frames carry the fields of the platform's `ChatMessageSent` (ids, sender, role, masked terms, sent/visible
 * times), so stored rows, bus messages and WebSocket frames are about the platform's size.
 *
 * Run as a role: `node bench/dist/command-path/floor-chat.js --role edge|command|projector --nats URL --db URL
 * [--port P]`; each prints `{"ready":true,…}` on stdout. {@link startFloorChat} starts all three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import jwt from 'jsonwebtoken';
import pg from 'pg';
import * as uWS from 'uWebSockets.js';
import type WebSocket from 'ws';
import { startPrivateNats } from '@eventcast/launcher';
import { findTextProblem } from '@eventcast/contracts';
import { createTestDatabase, jwtSecretKey } from '@eventcast/platform';
import { findPids } from '../fanout/proc.js';
import { CpuMeter, httpLoad, postgresBackendPids, wsLoad, type HttpStep, type WsStep } from './ws-load.js';

/** Stream and subjects of the floor (its own names: it never shares a server with the platform). */
const STREAM = 'FLOOR_EVENTS';
const EVENTS = 'floor.events';
const SEND = 'floor.send';
const CONSUMER = 'floor-projector';
const WEBHOOKS = 'floor-webhooks';

/**
 * What a run adds to the bare floor, one platform cost at a time, to find which of them the throughput goes to
 * (`--floor-variants`, comma-separated, cumulative in the report):
 * - `indexes`: the platform's secondary indexes — events by id, by (category, position) and by (type, position); chat
 *   messages by id, by (channel, position) and by (channel, visible_at, id);
 * - `idempotency`: every send's nonce claimed in `idempotency_keys` before its batch is appended and completed after
 *   (one autocommit statement each per batch, as chat-send-records.ts groups them), SHA-256 fingerprint per send;
 * - `acks`: every JetStream message acked one by one (`AckPolicy.Explicit`) by the projector, and a second durable
 *   consumer (as the webhook dispatcher) that reads one row per batch and acks every message.
 */
export type FloorVariant = 'indexes' | 'idempotency' | 'acks';

/** The schema: an append-only events table, stream revisions, the chat read model and its checkpoint. */
const SCHEMA = `
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE IF NOT EXISTS floor_streams (id text PRIMARY KEY, revision bigint NOT NULL);
CREATE TABLE IF NOT EXISTS floor_events (
  global_position bigserial PRIMARY KEY, id uuid NOT NULL DEFAULT gen_random_uuid(), stream_id text NOT NULL,
  category text NOT NULL DEFAULT 'chat', revision bigint NOT NULL, type text NOT NULL,
  data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), UNIQUE (stream_id, revision));
CREATE TABLE IF NOT EXISTS floor_chat_messages (
  global_position bigint PRIMARY KEY, id uuid NOT NULL DEFAULT gen_random_uuid(), channel text NOT NULL, text text NOT NULL,
  sent_at timestamptz NOT NULL, visible_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS floor_checkpoint (name text PRIMARY KEY, position bigint NOT NULL);
INSERT INTO floor_checkpoint VALUES ('chat', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS idempotency_keys (scope text NOT NULL, key_hash text NOT NULL, fingerprint text NOT NULL,
  state text NOT NULL, response jsonb, locked_until timestamptz, expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key_hash)) WITH (fillfactor = 50);
CREATE INDEX IF NOT EXISTS idempotency_keys_expires ON idempotency_keys (expires_at);
CREATE TABLE IF NOT EXISTS floor_webhooks (channel text PRIMARY KEY, url text NOT NULL);`;

/** The platform's secondary indexes (variant `indexes`). */
const PLATFORM_INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS floor_events_id ON floor_events (id);
CREATE INDEX IF NOT EXISTS floor_events_category ON floor_events (category, global_position);
CREATE INDEX IF NOT EXISTS floor_events_type ON floor_events (type, global_position);
CREATE UNIQUE INDEX IF NOT EXISTS floor_chat_id ON floor_chat_messages (id);
CREATE INDEX IF NOT EXISTS floor_chat_channel ON floor_chat_messages (channel, global_position DESC);
CREATE INDEX IF NOT EXISTS floor_chat_visible ON floor_chat_messages (channel, visible_at, id);`;

/** A send inside a `floor.send` batch. */
interface SendItem {
  text: string;
  nonce: string;
}

/**
 * Why `text` cannot be a chat message here, or null: 1–2,000 UTF-16 code units under the platform's text rule
 * (`findTextProblem` of @eventcast/contracts: no control character such as NUL, no bidi override, no lone surrogate).
 * NUL or a lone surrogate would fail the whole batch's transaction in PostgreSQL and refuse everyone's sends.
 */
function textProblem(text: unknown): string | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > 2000) return 'text must be a string of 1–2,000 characters';
  return findTextProblem(text)?.reason ?? null;
}

/** The reply to a `floor.send` batch: one global position per send, or why none was stored. */
type SendReply = { positions: string[] } | { error: string };

/** Ids of the floor's one room owner (stands in for the platform's channel and sender ids). */
const ROOM_ID = '6f1d3c5e-2b7a-4e21-9a0c-3d4b5e6f7a81';
const SENDER_ID = '0b8e2f4c-9d1a-4c3b-8e7f-1a2b3c4d5e6f';

/** Edge: uWebSockets.js on `port`, batching sends per room per event-loop turn. */
async function runEdge(nc: NatsConnection, port: number): Promise<number> {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  type Conn = { closed: boolean };
  const app = uWS.App();
  const pending = new Map<string, Array<{ ws: uWS.WebSocket<Conn>; item: SendItem }>>();
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    for (const [channel, items] of pending) {
      pending.delete(channel);
      nc.request(SEND, enc.encode(JSON.stringify({ channel, items: items.map((i) => i.item) })), { timeout: 10_000 }).then(
        (reply) => {
          const r = JSON.parse(dec.decode(reply.data)) as SendReply;
          items.forEach(({ ws, item }, i) => {
            if (ws.getUserData().closed) return;
            const position = 'positions' in r ? r.positions[i] : undefined;
            const nonce = JSON.stringify(item.nonce);
            ws.send(position ? `{"type":"chat.ack","nonce":${nonce},"position":"${position}"}` : `{"type":"error","code":"unavailable","nonce":${nonce}}`);
          });
        },
        () => {
          for (const { ws, item } of items) if (!ws.getUserData().closed) ws.send(`{"type":"error","code":"unavailable","nonce":${JSON.stringify(item.nonce)}}`);
        },
      );
    }
  };
  app.ws<Conn>('/ws', {
    maxPayloadLength: 16 * 1024,
    idleTimeout: 120,
    upgrade: (res, req, ctx) => {
      res.upgrade({ closed: false }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    open: (ws) => void ws.send('{"type":"welcome"}'),
    message: (ws, data) => {
      let f: { type?: unknown; channel?: unknown; text?: unknown; nonce?: unknown };
      try {
        f = JSON.parse(Buffer.from(data).toString()) as typeof f;
      } catch {
        ws.send('{"type":"error","code":"invalid_frame"}');
        return;
      }
      if (typeof f.channel !== 'string' || !/^[a-z0-9_]{1,32}$/.test(f.channel)) {
        ws.send('{"type":"error","code":"invalid_frame"}');
        return;
      }
      if (f.type === 'subscribe') {
        ws.subscribe(`room/${f.channel}`);
        ws.send(`{"type":"subscribed","channel":"${f.channel}"}`);
      } else if (f.type === 'chat.send' && typeof f.nonce === 'string' && f.nonce.length <= 128) {
        if (textProblem(f.text) !== null) {
          ws.send(`{"type":"error","code":"invalid_request","nonce":${JSON.stringify(f.nonce)}}`);
          return;
        }
        const list = pending.get(f.channel) ?? [];
        if (list.length === 0) pending.set(f.channel, list);
        list.push({ ws, item: { text: f.text as string, nonce: f.nonce } });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      } else ws.send('{"type":"error","code":"invalid_frame"}');
    },
    close: (ws) => {
      ws.getUserData().closed = true;
    },
  });
  nc.subscribe(`${EVENTS}.>`, {
    callback: (err, msg) => {
      if (err) return;
      const channel = msg.subject.slice(EVENTS.length + 1);
      app.publish(`room/${channel}`, `{"type":"event","channel":"${channel}","event":${msg.string()}}`);
    },
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', port, (socket) => (socket ? resolve(uWS.us_socket_local_port(socket)) : reject(new Error(`edge cannot listen on ${port}`))));
  });
}

/** Command: room queues appended with group commit, replies, publishes; also the HTTP endpoint. @returns its HTTP port. */
async function runCommand(nc: NatsConnection, pool: pg.Pool, variants: ReadonlySet<FloorVariant>, httpPort: number, jwtKey: KeyObject): Promise<number> {
  const js = jetstream(nc);
  const enc = new TextEncoder();
  /** Rooms whose drain loop runs. */
  const lanes = new Map<string, Promise<void>>();
  const revisions = new Map<string, bigint>();
  /** The room's stream revision as stored (a compare-and-set miss, e.g. a first run on an old database). */
  const storedRevision = async (channel: string): Promise<bigint> => {
    const r = await pool.query<{ revision: string }>('SELECT revision FROM floor_streams WHERE id = $1', [channel]);
    return r.rows[0] ? BigInt(r.rows[0].revision) : -1n;
  };
  /** Appends `items` as one transaction; the cached revision moves only with a commit. */
  const appendOnce = async (channel: string, items: SendItem[], expected: bigint): Promise<Array<{ position: string; id: string; json: string }> | null> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const next = expected + BigInt(items.length);
      const moved = await c.query({
        name: 'floor-cas',
        text: `INSERT INTO floor_streams AS s (id, revision) VALUES ($1, $3) ON CONFLICT (id) DO UPDATE SET revision = $3 WHERE s.revision = $2 RETURNING revision`,
        values: [channel, expected.toString(), next.toString()],
      });
      if (moved.rowCount !== 1) {
        await c.query('ROLLBACK');
        return null;
      }
      const now = new Date().toISOString();
      const ids = items.map(() => randomUUID());
      // The fields of the platform's ChatMessageSent (libs/events chat.ts), so rows and frames are of its size.
      const datas = items.map((i, n) =>
        JSON.stringify({
          channelId: ROOM_ID,
          username: channel,
          messageId: ids[n],
          senderId: SENDER_ID,
          senderName: channel,
          senderRole: 'owner',
          text: i.text,
          maskedTerms: 0,
          sentAt: now,
          visibleAt: now,
        }),
      );
      const r = await c.query<{ global_position: string }>({
        name: 'floor-append',
        text: `INSERT INTO floor_events (id, stream_id, revision, type, data)
               SELECT i, $1, $2::bigint + o, 'ChatMessageSent', d::jsonb FROM unnest($3::text[], $4::uuid[]) WITH ORDINALITY AS t(d, i, o)
               RETURNING global_position`,
        values: [channel, expected.toString(), datas, ids],
      });
      await c.query('COMMIT');
      revisions.set(channel, next);
      return r.rows.map((row, n) => ({
        position: row.global_position,
        id: ids[n]!,
        json: `{"id":"${ids[n]}","type":"ChatMessageSent","version":2,"streamId":"chat-${ROOM_ID}","globalPosition":"${row.global_position}","occurredAt":"${now}","data":${datas[n]}}`,
      }));
    } catch (e) {
      // Nothing was committed: the cached revision stays as it was.
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  };
  /** Appends with the cached revision; on a compare-and-set miss, once more with the stored one. @throws on failure. */
  const append = async (channel: string, items: SendItem[]): Promise<Array<{ position: string; id: string; json: string }>> => {
    const first = await appendOnce(channel, items, revisions.get(channel) ?? -1n);
    if (first) return first;
    const again = await appendOnce(channel, items, await storedRevision(channel));
    if (again) return again;
    throw new Error(`wrong expected revision for ${channel}`);
  };
  /** Publishes a batch's events in order with their ids as `Nats-Msg-Id`; tried up to three times. */
  const publish = async (channel: string, events: ReadonlyArray<{ id: string; json: string }>): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await Promise.all(events.map((e) => js.publish(`${EVENTS}.${channel}`, enc.encode(e.json), { msgID: e.id })));
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
  };
  // Variant `idempotency`: one claim statement before the append, one completion after (autocommit each).
  const claim = async (channel: string, items: SendItem[]): Promise<string[]> => {
    const hashes = items.map((i) => createHash('sha256').update(`${channel}:${i.nonce}`).digest('hex'));
    const prints = items.map((i) => createHash('sha256').update(`${channel}\n${i.text}`).digest('hex'));
    // Not prepared (as the platform's): a generic plan made while the table is small would scan it.
    await pool.query({
      text: `INSERT INTO idempotency_keys AS k (scope, key_hash, fingerprint, state, locked_until, expires_at)
             SELECT 'chat.send', h, f, 'in_flight', now() + interval '30 seconds', now() + interval '1 day' FROM unnest($1::text[], $2::text[]) AS t(h, f)
             ON CONFLICT (scope, key_hash) DO UPDATE SET locked_until = EXCLUDED.locked_until WHERE k.state = 'in_flight' AND k.locked_until < now()
             RETURNING key_hash`,
      values: [hashes, prints],
    });
    return hashes;
  };
  const complete = async (hashes: string[], events: Array<{ position: string }>): Promise<void> => {
    await pool.query({
      text: `UPDATE idempotency_keys AS k SET state = 'done', response = t.r::jsonb, locked_until = NULL
             FROM unnest($1::text[], $2::text[]) AS t(h, r) WHERE k.scope = 'chat.send' AND k.key_hash = t.h`,
      values: [hashes, events.map((e) => `{"ok":true,"globalPosition":"${e.position}"}`)],
    });
  };
  // Per room: the requests that arrived while the room's transaction ran are appended together in the next one
  // (group commit), as the platform's room lanes do.
  const queued = new Map<string, Array<{ items: SendItem[]; reply: (r: SendReply) => void }>>();
  const enqueue = (channel: string, items: SendItem[], reply: (r: SendReply) => void): void => {
    const list = queued.get(channel);
    if (list) list.push({ items, reply });
    else {
      queued.set(channel, [{ items, reply }]);
      if (!lanes.has(channel)) lanes.set(channel, drain(channel));
    }
  };
  /** The room's lane: one batch at a time; it ends (and leaves `lanes`) in the same step that finds the queue empty. */
  const drain = async (channel: string): Promise<void> => {
    for (;;) {
      const msgs = queued.get(channel) ?? [];
      queued.delete(channel);
      if (msgs.length === 0) {
        lanes.delete(channel);
        return;
      }
      const items = msgs.flatMap((m) => m.items);
      let events: Array<{ position: string; id: string; json: string }>;
      let keys: string[] = [];
      try {
        if (variants.has('idempotency')) keys = await claim(channel, items);
        events = await append(channel, items);
      } catch (e) {
        for (const m of msgs) m.reply({ error: 'unavailable' });
        process.stderr.write(`command: ${String(e)}\n`);
        continue;
      }
      let at = 0;
      for (const m of msgs) {
        m.reply({ positions: events.slice(at, at + m.items.length).map((e) => e.position) });
        at += m.items.length;
      }
      // The publish runs off the lane (its acks awaited together); the nonce records are completed before the room's
      // next batch, after the reply.
      publish(channel, events).catch((e: unknown) => process.stderr.write(`publish failed, events lost to the floor's bus: ${String(e)}\n`));
      if (keys.length > 0) await complete(keys, events).catch((e: unknown) => process.stderr.write(`completion: ${String(e)}\n`));
    }
  };
  nc.subscribe(SEND, {
    queue: 'floor-command',
    callback: (err, msg) => {
      if (err) return;
      const { channel, items } = msg.json<{ channel: string; items: SendItem[] }>();
      enqueue(channel, items, (r) => msg.respond(enc.encode(JSON.stringify(r))));
    },
  });
  // HTTP: `POST /channels/<room>/chat/messages` `{"text"}` with `Authorization: Bearer <HS256 JWT>` (checked with
  // jsonwebtoken, as command-api) → 201 `{"globalPosition"}` after the commit; appended through the same room queue.
  const server = createServer((req, res) => {
    const m = /^\/channels\/([a-z0-9_]{1,32})\/chat\/messages$/.exec(req.url ?? '');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!m) return void res.writeHead(404).end();
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    if (!token || !jwtValid(token, jwtKey)) return void res.writeHead(401).end();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return;
      let text: unknown;
      try {
        text = (JSON.parse(Buffer.concat(chunks).toString()) as { text?: unknown } | null)?.text;
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('the body is not JSON');
        return;
      }
      const problem = textProblem(text);
      if (problem !== null || typeof text !== 'string') {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(problem ?? 'text must be a string');
        return;
      }
      // Each HTTP send is its own request: a nonce of its own (the platform's idempotency key is optional over HTTP).
      enqueue(m[1]!, [{ text, nonce: randomUUID() }], (r) => {
        if ('positions' in r) res.writeHead(201, { 'content-type': 'application/json' }).end(`{"globalPosition":"${r.positions[0]}"}`);
        else res.writeHead(503).end();
      });
    });
  });
  return new Promise((resolve) => server.listen(httpPort, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Largest HTTP body accepted (bytes): 413 above. */
const MAX_BODY_BYTES = 64 * 1024;

/** True when `token` is an unexpired HS256 JWT signed with `key` (jsonwebtoken `verify`, as command-api checks its own). */
function jwtValid(token: string, key: KeyObject): boolean {
  try {
    jwt.verify(token, key, { algorithms: ['HS256'] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Projector: durable consumer, one transaction per delivered batch, one ack per batch (AckAll) or, with variant
 * `acks`, one per message plus the second (webhook-like) consumer.
 */
async function runProjector(nc: NatsConnection, pool: pg.Pool, variants: ReadonlySet<FloorVariant>): Promise<void> {
  const perMessageAcks = variants.has('acks');
  await drainConsumer(nc, CONSUMER, async (batch) => {
    const rows = batch.map((m) => m.json<{ globalPosition: string; data: { messageId: string; username: string; text: string; sentAt: string; visibleAt: string } }>());
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query({
        name: 'floor-project',
        text: `INSERT INTO floor_chat_messages (global_position, id, channel, text, sent_at, visible_at)
               SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[]) ON CONFLICT DO NOTHING`,
        values: [
          rows.map((r) => r.globalPosition),
          rows.map((r) => r.data.messageId),
          rows.map((r) => r.data.username),
          rows.map((r) => r.data.text),
          rows.map((r) => r.data.sentAt),
          rows.map((r) => r.data.visibleAt),
        ],
      });
      const last = rows.reduce((m, r) => (BigInt(r.globalPosition) > m ? BigInt(r.globalPosition) : m), 0n);
      await c.query({ name: 'floor-checkpoint', text: `UPDATE floor_checkpoint SET position = GREATEST(position, $1) WHERE name = 'chat'`, values: [last.toString()] });
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
    if (perMessageAcks) for (const m of batch) m.ack();
    else batch[batch.length - 1]!.ack();
  });
  if (perMessageAcks) {
    await drainConsumer(nc, WEBHOOKS, async (batch) => {
      const channels = [...new Set(batch.map((m) => m.subject.slice(EVENTS.length + 1)))];
      await pool.query({ name: 'floor-hooks', text: 'SELECT channel, url FROM floor_webhooks WHERE channel = ANY($1::text[])', values: [channels] });
      for (const m of batch) m.ack();
    });
  }
}

/**
 * Feeds `handle` whatever `durable` delivered, one batch at a time (≤ 1,000). A failed batch is tried again in place
 * after 200 ms until it succeeds (with `AckPolicy.All` a nak would be acknowledged by the next batch's ack).
 */
async function drainConsumer(nc: NatsConnection, durable: string, handle: (batch: JsMsg[]) => Promise<void>): Promise<void> {
  const consumer = await jetstream(nc).consumers.get(STREAM, durable);
  const queue: JsMsg[] = [];
  let wake: (() => void) | undefined;
  const messages = await consumer.consume({
    max_messages: 2000,
    callback: (m) => {
      queue.push(m);
      wake?.();
    },
  });
  void messages.closed();
  void (async () => {
    for (;;) {
      if (queue.length === 0) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      const batch = queue.splice(0, 1000);
      for (;;) {
        try {
          await handle(batch);
          break;
        } catch (e) {
          process.stderr.write(`${durable}: ${String(e)}; trying the batch again\n`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  })();
}

/** Creates the schema, the stream and the durable consumer (idempotent). */
async function prepare(nc: NatsConnection, pool: pg.Pool, variants: ReadonlySet<FloorVariant>): Promise<void> {
  await pool.query(SCHEMA);
  if (variants.has('indexes')) await pool.query(PLATFORM_INDEXES);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: [`${EVENTS}.>`] });
  const ack_policy = variants.has('acks') ? AckPolicy.Explicit : AckPolicy.All;
  await jsm.consumers.add(STREAM, { durable_name: CONSUMER, ack_policy, deliver_policy: DeliverPolicy.All, max_ack_pending: 20_000 });
  if (variants.has('acks')) await jsm.consumers.add(STREAM, { durable_name: WEBHOOKS, ack_policy, deliver_policy: DeliverPolicy.All, max_ack_pending: 20_000 });
}

/**
 * Parses `--floor-variants` (comma-separated {@link FloorVariant}s, empty for the bare floor).
 * @throws {Error} on an unknown name.
 */
export function parseFloorVariants(list: string): Set<FloorVariant> {
  const known: readonly string[] = ['indexes', 'idempotency', 'acks'];
  const names = list.split(',').map((v) => v.trim()).filter(Boolean);
  for (const n of names) if (!known.includes(n)) throw new Error(`unknown floor variant "${n}" (known: ${known.join(', ')})`);
  return new Set(names as FloorVariant[]);
}

/** The three floor processes. */
export interface FloorChat {
  /** `ws://127.0.0.1:<port>/ws` of the edge. */
  wsUrl: string;
  /** `http://127.0.0.1:<port>` of the command process's HTTP endpoint. */
  httpUrl: string;
  /** Process ids of the three roles (for the CPU meter). */
  pids: { edge: number; command: number; projector: number };
  /** An HS256 bearer token (claim `sub`, valid for 1 h) the floor's HTTP endpoint accepts. */
  token(sub: string): string;
  /** SIGTERMs the roles and resolves once each has exited. */
  stop(): Promise<void>;
}

/** Resolves once `c` has exited (at once when it already has, by code or by signal). */
function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r()));
}

/**
 * Spawns one role (added to `started` at once) with `env` added to this process's, and waits for its ready line.
 * @throws when it exits before printing it.
 */
async function spawnRole(role: string, args: string[], started: ChildProcess[], env: Record<string, string>): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--role', role, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  started.push(child);
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (l) => resolve(JSON.parse(l) as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`floor ${role} exited (${code})`)));
  });
  return { child, ready };
}

/**
 * Starts the floor's processes on `natsUrl` (JetStream enabled) and the database `dbUrl` (created by the caller),
 * after creating the schema, stream and consumer.
 * @throws when a role does not come up.
 */
export async function startFloorChat(natsUrl: string, dbUrl: string, variants: ReadonlySet<FloorVariant> = new Set()): Promise<FloorChat> {
  const nc = await connect({ servers: natsUrl });
  const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
  try {
    await prepare(nc, pool, variants);
  } finally {
    await pool.end();
    await nc.close();
  }
  const common = ['--nats', natsUrl, '--db', dbUrl, '--variant', [...variants].join(',')];
  // The run's own JWT secret, handed to the roles in their environment (FLOOR_JWT_SECRET).
  const jwtSecret = randomBytes(32).toString('hex');
  const started: ChildProcess[] = [];
  const role = async (name: string): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> => {
    try {
      const r = await spawnRole(name, common, started, { FLOOR_JWT_SECRET: jwtSecret });
      return r;
    } catch (e) {
      // A role that does not come up stops the ones already running.
      for (const c of started) c.kill('SIGTERM');
      await Promise.all(started.map(exited));
      throw e;
    }
  };
  const command = await role('command');
  const projector = await role('projector');
  const edge = await role('edge');
  const children = [edge.child, command.child, projector.child];
  return {
    wsUrl: `ws://127.0.0.1:${Number(edge.ready['port'])}/ws`,
    httpUrl: `http://127.0.0.1:${Number(command.ready['port'])}`,
    pids: { edge: edge.child.pid ?? 0, command: command.child.pid ?? 0, projector: projector.child.pid ?? 0 },
    token: (sub) => jwt.sign({ sub }, jwtSecretKey(jwtSecret), { algorithm: 'HS256', expiresIn: 3600 }),
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map(exited));
    },
  };
}

/**
 * Runs the WebSocket ladder of the platform's `ws` phase (same senders, viewers, pacing, rates and settle probe) against
 * the floor, on its own private nats-server and a fresh database (both removed afterwards). CPU groups carry the
 * platform's names so the tables line up: realtime = the floor's edge, command-api = its command process, query-api =
 * its projector.
 * @param o `rates` (msgs/s) and `seconds` per step, `senders`/`viewers` connections, the `variants` to add to the
 *   floor, and `httpConnections`: when set, an autocannon step on the floor's HTTP endpoint follows the ladder.
 * @returns one step per rate (WsStep), the HTTP step or null, and the ladder's notes.
 * @throws when the private nats-server, the database or a role cannot be started.
 */
export async function floorBench(
  o: { rates: readonly number[]; seconds: number; senders: number; viewers: number; variants?: ReadonlySet<FloorVariant>; httpConnections?: number },
  log: (s: string) => void,
): Promise<{ steps: WsStep[]; http: HttpStep | null; notes: string[] }> {
  const nats = await startPrivateNats();
  const db = await createTestDatabase('eventcast_floor');
  const sockets: WebSocket[] = [];
  const notes: string[] = [];
  let floor: FloorChat | undefined;
  try {
    floor = await startFloorChat(nats.url, db.url, o.variants);
    const f = floor;
    const natsPids = findPids((cmd, comm) => comm === 'nats-server' && cmd.includes(` -p ${nats.port} `));
    const meter = new CpuMeter(() => ({
      realtime: [f.pids.edge],
      'command-api': [f.pids.command],
      'query-api': [f.pids.projector],
      'nats-server': natsPids,
      postgres: postgresBackendPids(db.url),
      bench: [process.pid],
    }));
    const owner = { username: 'floor_room', token: 'unused' };
    const load = wsLoad({ wsUrl: f.wsUrl, owner, senders: o.senders, viewers: o.viewers, rates: o.rates, seconds: o.seconds, tag: Date.now().toString(36).slice(-6), meter, sockets, notes, log: (s) => log(`floor ${s}`) });
    await load.run([owner], 200, 2);
    const steps: WsStep[] = [];
    await load.ladder([owner], steps);
    let http: HttpStep | null = null;
    if (o.httpConnections !== undefined) {
      http = await httpLoad({ url: `${f.httpUrl}/channels/${owner.username}/chat/messages`, token: f.token('floor'), connections: o.httpConnections, seconds: o.seconds, meter });
      log(`floor http: ${http.requestsPerSecond} req/s (non-2xx ${http.non2xx}), p50 ${http.latencyMs.p50} p99 ${http.latencyMs.p99} ms, cpu ${JSON.stringify(http.cpuCores)}`);
    }
    return { steps, http, notes };
  } finally {
    for (const ws of sockets) ws.terminate();
    await floor?.stop();
    await nats.dispose();
    await db.drop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { role: { type: 'string' }, nats: { type: 'string' }, db: { type: 'string' }, port: { type: 'string', default: '0' }, variant: { type: 'string', default: '' } },
  });
  const variants = parseFloorVariants(values.variant);
  const nc = await connect({ servers: values.nats ?? 'nats://127.0.0.1:4222', noAsyncTraces: true });
  const pool = new pg.Pool({ connectionString: values.db, max: 10 });
  let port: number | undefined;
  if (values.role === 'edge') port = await runEdge(nc, Number(values.port));
  else if (values.role === 'command') port = await runCommand(nc, pool, variants, Number(values.port), jwtSecretKey(process.env['FLOOR_JWT_SECRET'] ?? ''));
  else if (values.role === 'projector') await runProjector(nc, pool, variants);
  else throw new Error(`unknown role ${values.role}`);
  await nc.flush();
  process.stdout.write(`${JSON.stringify({ ready: true, role: values.role, port })}\n`);
  process.once('SIGTERM', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    process.stderr.write(`${String(e instanceof Error ? e.stack : e)}\n`);
    process.exit(1);
  });
}
