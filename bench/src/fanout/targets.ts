/**
 * The systems the chat fan-out benchmark drives, behind one interface ({@link Target}):
 * - {@link startEventcastFull}: the whole platform (startE2ePlatform); senders are the channel owner and moderators
 *   sending `chat.send` over `/ws?token=`, so the message goes edge → NATS request → command-api (chat room
 *   aggregate, PostgreSQL event store) → publisher → JetStream → edge → viewers;
 * - {@link startEventcastEdgeOnly}: the realtime edge alone with a private nats-server; the "sender" publishes
 *   synthetic `ChatMessageSent` wire events to JetStream (what the publisher would publish);
 * - {@link startSocketIoBaseline}: a plain Socket.IO server doing only fan-out (./socketio-server.ts).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { io as ioClient, type Socket as IoSocket } from 'socket.io-client';
import { jetstream } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { eventSubject, streams, validateEventData } from '@eventcast/events';
import { freePort, startPrivateNats } from '@eventcast/launcher';
import { startE2ePlatform, ROOT } from '@eventcast/e2e/harness';
import type { Dialect } from './raw-ws.js';
import { findPids, nowMs, sleep } from './proc.js';

/** A latency-sampling receiver: full client, full JSON parsing. */
export interface Sampler {
  close(): void;
}

/** Called by a sampler for every relayed chat frame: receive time (ms, {@link nowMs}) and the message text. */
export type OnChat = (receivedAtMs: number, text: string) => void;

/** A sender: sends one chat message with the given text. */
export interface Sender {
  send(text: string): void;
  close(): void;
}

/** Outcome counters of the senders (acks, refusals by code, send → ack latency). */
export interface SendStats {
  acked: number;
  errors: Record<string, number>;
  ackLatencyMs: number[];
}

/** A system under test. */
export interface Target {
  /** Short name for the report. */
  name: string;
  dialect: Dialect;
  host: string;
  port: number;
  /** The channel (Eventcast username) viewers subscribe to. */
  channel: string;
  /** The process doing the fan-out (its RSS gives memory per connection). */
  fanoutPid: number;
  /** Server processes whose CPU is measured, by name (re-evaluated at each snapshot: pools grow). */
  processes(): Record<string, number[]>;
  /** Names in {@link processes} that belong to the whole path but are shared with other users of the machine. */
  shared: string[];
  sendStats: SendStats;
  openSampler(onChat: OnChat, localAddress: string): Promise<Sampler>;
  openSender(index: number, localAddress: string): Promise<Sender>;
  /** How many senders this target wants for `rate` messages/s. */
  sendersFor(rate: number): number;
  notes: string[];
  dispose(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Per-IP connection limit given to the edge for the benchmark (the default, 20 per 10 s, would refuse viewers). */
export const BENCH_CONNECTIONS_PER_IP = '1000000';

function redisPids(): number[] {
  return findPids((_cmd, comm) => comm === 'redis-server');
}

function natsPids(port: number): number[] {
  return findPids((cmd, comm) => comm === 'nats-server' && cmd.includes(` -p ${port} `));
}

/** Opens a `ws` client to the Eventcast edge, subscribes to `channel`, resolves on `subscribed`. */
function openEventcastWs(url: string, channel: string, localAddress: string, onFrame: (t: number, f: { type: string; [k: string]: unknown }) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('timeout opening a sampler/sender'));
    }, 15_000);
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.on('message', (data) => {
      const t = nowMs();
      const f = JSON.parse((data as Buffer).toString()) as { type: string; [k: string]: unknown };
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', channel }));
      else if (f.type === 'subscribed') {
        clearTimeout(timer);
        resolve(ws);
      }
      onFrame(t, f);
    });
  });
}

/** An Eventcast sampler: every relayed chat event (or the ChannelInfoUpdated stand-in) reports its text. */
function eventcastSampler(url: string, channel: string, onChat: OnChat, localAddress: string): Promise<Sampler> {
  return openEventcastWs(url, channel, localAddress, (t, f) => {
    if (f.type !== 'event') return;
    const ev = f['event'] as { type: string; data: { text?: string; title?: string } };
    const text = ev.type === 'ChatMessageSent' ? ev.data.text : ev.type === 'ChannelInfoUpdated' ? ev.data.title : undefined;
    if (text !== undefined) onChat(t, text);
  }).then((ws) => ({ close: () => ws.terminate() }));
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts the realtime edge (apps/realtime/dist/main.js) with a private nats-server. `event` picks what the sender
 * publishes: `ChatMessageSent` (the real thing), or `ChannelInfoUpdated` (title = text) for an edge built before
 * chat relaying existed.
 */
export async function startEventcastEdgeOnly(event: 'ChatMessageSent' | 'ChannelInfoUpdated'): Promise<Target> {
  const channel = 'benchchannel';
  const channelId = randomUUID();
  // The edge looks channel ids up on query-api (GET /channels/:username); a stub answers for the bench channel.
  const directory = createServer((req, res) => {
    const found = req.url === `/channels/${channel}`;
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(found ? { id: channelId, username: channel } : { statusCode: 404, error: 'Not Found', message: 'no such channel' }));
  });
  await new Promise<void>((r) => directory.listen(0, '127.0.0.1', r));
  const directoryPort = (directory.address() as AddressInfo).port;
  const nats = await startPrivateNats();
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'eventcast-bench-edge-'));
  const logFile = join(logDir, 'realtime.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['dist/main.js'], {
    cwd: join(ROOT, 'apps/realtime'),
    env: {
      ...process.env,
      NATS_URL: nats.url,
      REALTIME_PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      REALTIME_CONNECTIONS_PER_IP_PER_10S: BENCH_CONNECTIONS_PER_IP,
      QUERY_API_URL: `http://127.0.0.1:${directoryPort}`,
    },
    stdio: ['ignore', fd, fd],
  });
  try {
    await waitReady(`http://127.0.0.1:${port}/ready`, child, 30_000);
  } catch (e) {
    await stopChild(child, 2000);
    await nats.dispose();
    directory.close();
    throw e;
  }
  const nc = await natsConnect({ servers: nats.url, name: 'bench-chat-fanout' });
  const js = jetstream(nc);
  const senderId = randomUUID();
  let position = 1_000_000n;
  const sendStats: SendStats = { acked: 0, errors: {}, ackLatencyMs: [] };
  const streamName = event === 'ChatMessageSent' ? streams.chat(channelId) : streams.account(channelId);
  const subject = eventSubject(streamName, event, { username: channel });
  // Validate one payload against the catalog, so a schema change fails loudly instead of being silently dropped.
  validateEventData(event, 1, event === 'ChatMessageSent' ? chatData('x') : { channelId, username: channel, title: 'x', category: 'Games' });
  function chatData(text: string): Record<string, unknown> {
    return { channelId, username: channel, messageId: randomUUID(), senderId, senderName: 'benchowner', senderRole: 'owner', text, maskedTerms: 0, visibleAt: new Date().toISOString() };
  }
  const notes = [
    `edge-only: realtime edge alone (LOG_LEVEL=info) + private nats-server + a stub of query-api's \`GET /channels/:username\` (channel id lookup); synthetic \`${event}\` wire events published to JetStream ` +
      `(\`${subject}\`) stand in for the command side; latency = JetStream publish call → sampled viewer.`,
  ];
  return {
    name: 'eventcast-edge',
    dialect: 'eventcast',
    host: '127.0.0.1',
    port,
    channel,
    fanoutPid: child.pid ?? 0,
    processes: () => ({ realtime: [child.pid ?? 0], 'nats-server': natsPids(nats.port), 'redis-server (shared)': redisPids() }),
    shared: ['redis-server (shared)'],
    sendStats,
    notes,
    sendersFor: () => 1,
    openSampler: (onChat, addr) => eventcastSampler(`ws://127.0.0.1:${port}/ws`, channel, onChat, addr),
    openSender: () =>
      Promise.resolve({
        send(text: string) {
          position += 1n;
          const id = randomUUID();
          const data = event === 'ChatMessageSent' ? chatData(text) : { channelId, username: channel, title: text, category: 'Games' };
          const wire = { id, type: event, version: 1, streamName, revision: String(position), globalPosition: position.toString(), occurredAt: new Date().toISOString(), data, metadata: { correlationId: id, bench: 'chat-fanout' } };
          const t0 = nowMs();
          js.publish(subject, JSON.stringify(wire), { msgID: id }).then(
            () => {
              sendStats.acked++;
              sendStats.ackLatencyMs.push(nowMs() - t0);
            },
            (e: unknown) => {
              const k = e instanceof Error ? e.name : 'error';
              sendStats.errors[k] = (sendStats.errors[k] ?? 0) + 1;
            },
          );
        },
        close() {},
      }),
    async dispose() {
      await nc.drain().catch(() => undefined);
      await stopChild(child);
      await nats.dispose();
      directory.close();
      closeSync(fd);
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** Registers `username` on command-api and returns its token and id. */
async function register(api: string, username: string): Promise<{ token: string; id: string }> {
  const r = await fetch(`${api}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'benchmark-password' }),
  });
  if (!r.ok) throw new Error(`register ${username}: ${r.status} ${await r.text()}`);
  const b = (await r.json()) as { token: string; account: { id: string } };
  return { token: b.token, id: b.account.id };
}

/**
 * Starts the whole platform as the end-to-end tests do (startE2ePlatform: private ports, private NATS, fresh
 * database; apps log at info level, as in production), registers the channel owner and `moderators` moderator accounts.
 */
export async function startEventcastFull(moderators: number): Promise<Target> {
  const env = await startE2ePlatform({ logLevel: 'info', env: { REALTIME_CONNECTIONS_PER_IP_PER_10S: BENCH_CONNECTIONS_PER_IP } });
  const notes: string[] = [
    'full path: startE2ePlatform (all five apps, LOG_LEVEL=info, private nats-server, fresh PostgreSQL database); ' +
      'senders are the channel owner and moderators (skip slow mode and the room rate limit) sending `chat.send` over `/ws?token=`; ' +
      'latency = WebSocket send of `chat.send` → `ChatMessageSent` frame at a sampled viewer.',
  ];
  try {
    const api = env.platform.urls.commandApi;
    const tag = Date.now().toString(36).slice(-6);
    const owner = await register(api, `bench_${tag}`);
    const channel = `bench_${tag}`;
    const accounts = [owner];
    for (let i = 1; i <= moderators; i++) {
      const m = await register(api, `bench_${tag}_m${i}`);
      const r = await fetch(`${api}/channels/${channel}/chat/moderators/bench_${tag}_m${i}`, { method: 'PUT', headers: { authorization: `Bearer ${owner.token}` } });
      if (r.ok) accounts.push(m);
      else {
        notes.push(`adding moderator failed (${r.status} ${(await r.text()).slice(0, 120)}); all senders use the owner account`);
        break;
      }
    }
    const port = env.platform.ports.realtime;
    const pids = env.platform.pids;
    const dbName = new URL(env.db.url).pathname.slice(1);
    const pgPids = (): number[] => {
      try {
        const out = execFileSync('psql', ['-At', '-d', env.db.url, '-c', `SELECT pid FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`]).toString();
        return out.split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    const sendStats: SendStats = { acked: 0, errors: {}, ackLatencyMs: [] };
    const url = `ws://127.0.0.1:${port}/ws`;
    return {
      name: 'eventcast',
      dialect: 'eventcast',
      host: '127.0.0.1',
      port,
      channel,
      fanoutPid: pids['realtime'] ?? 0,
      processes: () => ({
        realtime: [pids['realtime'] ?? 0],
        'command-api': [pids['command-api'] ?? 0],
        'query-api': [pids['query-api'] ?? 0],
        'nats-server': natsPids(env.nats.port),
        'postgres backends': pgPids(),
        ingest: [pids['ingest'] ?? 0],
        web: [pids['web'] ?? 0],
        'redis-server (shared)': redisPids(),
      }),
      shared: ['redis-server (shared)'],
      sendStats,
      notes,
      // the edge allows 10 sends/s per connection: keep each sender at ≤ 5/s
      sendersFor: (rate) => Math.max(1, Math.ceil(rate / 5)),
      openSampler: (onChat, addr) => eventcastSampler(url, channel, onChat, addr),
      async openSender(index, addr) {
        const acc = accounts[index % accounts.length] ?? owner;
        const pending = new Map<string, number>();
        const ws = await openEventcastWs(`${url}?token=${encodeURIComponent(acc.token)}`, channel, addr, (t, f) => {
          const nonce = f['nonce'] as string | undefined;
          if (f.type === 'chat.ack' && nonce) {
            sendStats.acked++;
            const t0 = pending.get(nonce);
            if (t0 !== undefined) sendStats.ackLatencyMs.push(t - t0);
            pending.delete(nonce);
          } else if (f.type === 'error') {
            const code = String(f['code']);
            sendStats.errors[code] = (sendStats.errors[code] ?? 0) + 1;
            if (nonce) pending.delete(nonce);
          }
        });
        let n = 0;
        return {
          send(text: string) {
            const nonce = `${index}-${n++}`;
            pending.set(nonce, nowMs());
            ws.send(JSON.stringify({ type: 'chat.send', channel, text, nonce }));
          },
          close: () => ws.terminate(),
        };
      },
      async dispose() {
        await env.dispose();
      },
    };
  } catch (e) {
    await env.dispose();
    throw e;
  }
}

/** Starts the Socket.IO baseline server (./socketio-server.ts) in its own process. */
export async function startSocketIoBaseline(): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(here, 'socketio-server.js'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('socket.io server did not start')), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (c) => reject(new Error(`socket.io server exited ${c}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const sendStats: SendStats = { acked: 0, errors: {}, ackLatencyMs: [] };
  const channelId = randomUUID();
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules/socket.io/package.json'), 'utf8')) as { version: string };
  const connectIo = (addr: string): Promise<IoSocket> =>
    new Promise((resolve, reject) => {
      const s = ioClient(url, { transports: ['websocket'], reconnection: false, forceNew: true, localAddress: addr } as Parameters<typeof ioClient>[1]);
      const t = setTimeout(() => {
        s.close();
        reject(new Error('socket.io client timeout'));
      }, 15_000);
      s.once('connect', () => {
        clearTimeout(t);
        resolve(s);
      });
      s.once('connect_error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  return {
    name: 'socket.io',
    dialect: 'engineio',
    host: '127.0.0.1',
    port,
    channel: 'chat',
    fanoutPid: child.pid ?? 0,
    processes: () => ({ 'socket.io server': [child.pid ?? 0] }),
    shared: [],
    sendStats,
    notes: [
      `baseline: socket.io ${version}, \`new Server(httpServer)\` with default settings, one process; every socket joins room \`chat\` on connection; ` +
        "a `chat` event is re-emitted with `io.to('chat').emit('chat', msg)`. The message is an object shaped like Eventcast's event frame " +
        '(same fields and sizes), so both servers push payloads of about the same size. Clients use the websocket transport only.',
    ],
    sendersFor: (rate) => Math.max(1, Math.ceil(rate / 5)),
    async openSampler(onChat, addr) {
      const s = await connectIo(addr);
      s.on('chat', (msg: { event?: { data?: { text?: string } } }) => {
        const t = nowMs();
        const text = msg.event?.data?.text;
        if (text !== undefined) onChat(t, text);
      });
      return { close: () => s.close() };
    },
    async openSender(index, addr) {
      const s = await connectIo(addr);
      let pos = 1_000_000 + index * 1_000_000;
      return {
        send(text: string) {
          pos++;
          const id = randomUUID();
          const now = new Date().toISOString();
          s.emit('chat', {
            type: 'event',
            channel: 'benchchannel',
            event: {
              id,
              type: 'ChatMessageSent',
              data: { channelId, username: 'benchchannel', messageId: id, senderId: channelId, senderName: 'benchowner', senderRole: 'owner', text, maskedTerms: 0, visibleAt: now },
              globalPosition: String(pos),
              occurredAt: now,
            },
          });
          sendStats.acked++;
        },
        close: () => s.close(),
      };
    },
    dispose: () => stopChild(child),
  };
}
