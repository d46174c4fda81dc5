/**
 * The WebSocket load of the command-path benchmarks, shared by the platform's phases (./platform-bench.ts) and the
 * floor (./floor-chat.ts): open-loop `chat.send` senders paced in 5-ms ticks, viewers measuring send → `ChatMessageSent`
 * frame, the CPU of each process group, and the rate ladder with its settle probe.
 *
 * Wire protocol spoken (the edge's, docs/contracts.md): server `{"type":"welcome"}` → client `{"type":"subscribe",
 * "channel"}` → `{"type":"subscribed"}`; `{"type":"chat.send","channel","text","nonce"}` → `{"type":"chat.ack","nonce"}`
 * or `{"type":"error","code","nonce"}`; events as `{"type":"event","event":{…,"data":{"text"}}}`.
 */
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { cpuSeconds, machineCpu, nowMs, sleep, summarize, type Summary } from '../fanout/proc.js';

/** A registered account (the floor's edge takes any token). */
export interface Account {
  username: string;
  token: string;
}

/** CPU of a process group over a window, in cores. */
export type CpuShare = Record<string, number>;

/** Process ids of the PostgreSQL backends connected to the database of `dbUrl` (empty when psql fails). */
export function postgresBackendPids(dbUrl: string): number[] {
  const dbName = new URL(dbUrl).pathname.slice(1);
  try {
    return execFileSync('psql', ['-At', '-d', dbUrl, '-c', `SELECT pid FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`])
      .toString()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** One open-loop WebSocket step. */
export interface WsStep {
  /** Rooms the sends were spread over. */
  rooms: number;
  /** Offered rate, msgs/s. */
  targetRate: number;
  /** Length of the sending window, s. */
  seconds: number;
  /** Sends made, acked (`chat.ack`), and acks ÷ max(window, time until the last ack) in msgs/s. */
  sent: number;
  acked: number;
  ackedPerSecond: number;
  /** Error frames per code. */
  refused: Record<string, number>;
  /** Sends without an answer when the drain ended. */
  unanswered: number;
  /** Send → `chat.ack`, ms. */
  ackMs: Summary;
  /** Send → `ChatMessageSent` frame at the viewers, ms. */
  deliveredMs: Summary;
  /** CPU of each process group over the step, in cores. */
  cpuCores: CpuShare;
  /** Share of the machine's CPU time busy over the step, %. */
  machineBusyPercent: number;
}

type Frame = { type: string; [k: string]: unknown };

/**
 * Opens a `ws` client on `url`, subscribes to `channel` and resolves once `subscribed` came; every later frame goes to
 * `onFrame(receive time in ms, raw text)` unparsed.
 * @throws (rejects) on a socket error or when not subscribed within 20 s.
 */
export function openWs(url: string, channel: string, onFrame: (t: number, raw: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`timeout opening ${url}`));
    }, 20_000);
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    let ready = false;
    ws.on('message', (data) => {
      const t = nowMs();
      const raw = (data as Buffer).toString();
      if (!ready) {
        const f = JSON.parse(raw) as Frame;
        if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'subscribe', channel }));
        else if (f.type === 'subscribed') {
          ready = true;
          clearTimeout(timer);
          resolve(ws);
        }
        return;
      }
      onFrame(t, raw);
    });
  });
}

/** The send time stamped into a message's text (`… @<ms since epoch>`), or NaN. */
export function sentAtOf(text: string): number {
  const at = text.lastIndexOf('@');
  return at < 0 ? NaN : Number(text.slice(at + 1));
}

/** CPU-second counters of the platform's processes (per pid; a pid that came or went during the window is left out). */
export class CpuMeter {
  private start = new Map<string, Map<number, number>>();
  private t0 = 0;
  private m0 = machineCpu();
  /** @param groups the process ids of each group, asked again at {@link begin} and {@link end}. */
  constructor(private readonly groups: () => Record<string, number[]>) {}
  /** Starts a window: the CPU seconds of every pid and the machine's counters now. */
  begin(): void {
    this.t0 = nowMs();
    this.m0 = machineCpu();
    this.start = new Map(Object.entries(this.groups()).map(([k, pids]) => [k, new Map(pids.map((p) => [p, cpuSeconds(p)]))]));
  }
  /** Ends the window: `cores` = CPU seconds used per group ÷ wall seconds; `busy` = the machine's busy share, %. */
  end(): { cores: CpuShare; busy: number } {
    const secs = (nowMs() - this.t0) / 1000;
    const m1 = machineCpu();
    const cores: CpuShare = {};
    for (const [k, pids] of Object.entries(this.groups())) {
      const before = this.start.get(k) ?? new Map<number, number>();
      let used = 0;
      for (const p of pids) {
        const a = before.get(p);
        const b = cpuSeconds(p);
        if (a !== undefined && Number.isFinite(a) && Number.isFinite(b)) used += b - a;
      }
      cores[k] = Math.round((used / secs) * 100) / 100;
    }
    return { cores, busy: Math.round(((100 * (m1.busy - this.m0.busy)) / (m1.total - this.m0.total || 1)) * 10) / 10 };
  }
}

/** The HTTP step (autocannon). */
export interface HttpStep {
  /** Connections at once (closed loop) and the run's length, s. */
  connections: number;
  seconds: number;
  /** Mean completed requests per second. */
  requestsPerSecond: number;
  /** Responses outside 2xx, and connection errors plus timeouts. */
  non2xx: number;
  errors: number;
  /** Request latency percentiles, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU of each process group over the run, in cores; the machine's busy share, %. */
  cpuCores: CpuShare;
  machineBusyPercent: number;
}

/**
 * Closed-loop HTTP load with autocannon: `connections` at once for `seconds`, each `POST url` `{"text"}` with the bearer
 * `token`; the CPU of `meter`'s groups over the run.
 * @returns the step's figures (HttpStep).
 * @throws what autocannon throws (e.g. an invalid URL); failed requests are counted, not thrown.
 */
export async function httpLoad(o: { url: string; token: string; connections: number; seconds: number; meter: CpuMeter }): Promise<HttpStep> {
  let n = 0;
  o.meter.begin();
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ text: `http bench ${n++}` }) }),
      },
    ],
  });
  const cpu = o.meter.end();
  return {
    connections: o.connections,
    seconds: o.seconds,
    requestsPerSecond: Math.round(r.requests.average),
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
    cpuCores: cpu.cores,
    machineBusyPercent: cpu.busy,
  };
}

/** What the load needs to know of the system under test. */
export interface WsLoadContext {
  /** `ws://…/ws` of the edge. */
  wsUrl: string;
  /** The account whose room the single-room steps and the settle probe use. */
  owner: Account;
  /** Sender connections per step (at least one per room). */
  senders: number;
  /** Viewer connections per step, spread over the rooms. */
  viewers: number;
  /** Rates of the ladder (msgs/s) and seconds per rate. */
  rates: readonly number[];
  seconds: number;
  /** Unique tag of the run (nonces). */
  tag: string;
  meter: CpuMeter;
  /** Sockets still open at the end are terminated by the caller. */
  sockets: WebSocket[];
  notes: string[];
  log: (s: string) => void;
}

/** The load's steps: one open-loop run, the settle probe, and the ladder over every rate. */
export interface WsLoad {
  /** Open-loop run of `rate` msgs/s for `seconds` over the senders, into `rooms` (each sender in one room). */
  run: (rooms: Account[], rate: number, seconds: number) => Promise<WsStep>;
  /** Waits (≤ 90 s) until a probe send is acked within 300 ms: the system worked off the previous step. */
  settle: () => Promise<void>;
  /** Every rate of the context, with a settle after each; stops after a collapse (acked < half the best step's). */
  ladder: (rooms: Account[], into: WsStep[]) => Promise<void>;
}

/**
 * Builds the load of {@link WsLoad} on `c`. Its steps throw (reject) only when a connection cannot be opened
 * (see {@link openWs}); refusals and timeouts are counted in the step.
 */
export function wsLoad(c: WsLoadContext): WsLoad {
  const { wsUrl, owner, tag, meter, sockets, notes, log } = c;

  /** Open-loop run of `rate` msgs/s for `seconds` over `senders`, into `rooms` (each sender in one room). */
  const wsRun = async (rooms: Account[], rate: number, seconds: number): Promise<WsStep> => {
    const pending = new Map<string, number>();
    const ackMs: number[] = [];
    const deliveredMs: number[] = [];
    const refused: Record<string, number> = {};
    let acked = 0;
    const conns: WebSocket[] = [];
    const nSenders = Math.max(c.senders, rooms.length);
    for (let i = 0; i < nSenders; i++) {
      const room = rooms[i % rooms.length] ?? owner;
      const ws = await openWs(`${wsUrl}?token=${encodeURIComponent(room.token)}`, room.username, (t, raw) => {
        // Senders see every frame of their room: only acks and errors are parsed.
        if (raw.startsWith('{"type":"event"')) return;
        const f = JSON.parse(raw) as Frame;
        const nonce = f['nonce'] as string | undefined;
        if (!nonce) return;
        const t0 = pending.get(nonce);
        if (t0 === undefined) return;
        pending.delete(nonce);
        if (f.type === 'chat.ack') {
          acked++;
          ackMs.push(t - t0);
        } else if (f.type === 'error') refused[String(f['code'])] = (refused[String(f['code'])] ?? 0) + 1;
      });
      conns.push(ws);
    }
    const viewers: WebSocket[] = [];
    for (let i = 0; i < c.viewers; i++) {
      const room = rooms[i % rooms.length] ?? owner;
      viewers.push(
        await openWs(wsUrl, room.username, (t, raw) => {
          if (!raw.includes('"ChatMessageSent"')) return;
          const f = JSON.parse(raw) as { event?: { data?: { text?: string } } };
          const sent = sentAtOf(f.event?.data?.text ?? '');
          if (Number.isFinite(sent)) deliveredMs.push(t - sent);
        }),
      );
    }
    sockets.push(...conns, ...viewers);
    await sleep(500);
    meter.begin();
    const total = Math.round(rate * seconds);
    const start = nowMs();
    let sent = 0;
    // Paced in 5-ms ticks: every tick sends what is due by then.
    while (sent < total) {
      const due = Math.min(total, Math.floor(((nowMs() - start) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        const c = conns[sent % conns.length];
        const room = rooms[sent % conns.length % rooms.length] ?? owner;
        const nonce = `${tag}-${rate}-${rooms.length}-${sent}`;
        const t = nowMs();
        pending.set(nonce, t);
        c?.send(`{"type":"chat.send","channel":"${room.username}","text":"bench ${sent} @${t.toFixed(3)}","nonce":"${nonce}"}`);
      }
      await sleep(5);
    }
    const drainUntil = nowMs() + 10_000;
    while (pending.size > 0 && nowMs() < drainUntil) await sleep(50);
    const sendWindow = (nowMs() - start) / 1000;
    const cpu = meter.end();
    await sleep(300);
    for (const ws of [...conns, ...viewers]) ws.terminate();
    const step: WsStep = {
      rooms: rooms.length,
      targetRate: rate,
      seconds,
      sent,
      acked,
      ackedPerSecond: Math.round(acked / Math.max(seconds, sendWindow)),
      refused,
      unanswered: pending.size,
      ackMs: summarize(ackMs),
      deliveredMs: summarize(deliveredMs),
      cpuCores: cpu.cores,
      machineBusyPercent: cpu.busy,
    };
    log(
      `ws ${rooms.length} room(s) @ ${rate}/s: acked ${step.ackedPerSecond}/s (${acked}/${sent}), ack p50 ${step.ackMs.p50} p99 ${step.ackMs.p99} ms, ` +
        `delivered p99 ${step.deliveredMs.p99} ms, refused ${JSON.stringify(refused)}, unanswered ${step.unanswered}, cpu ${JSON.stringify(cpu.cores)}, busy ${cpu.busy} %`,
    );
    return step;
  };

  /**
   * Waits until a probe `chat.send` is acked within 300 ms (one probe a second, up to 90 s): the platform has worked
   * off what the previous step left queued. Records how long it took.
   */
  const settle = async (): Promise<void> => {
    const t0 = nowMs();
    const probe = await openWs(`${wsUrl}?token=${encodeURIComponent(owner.token)}`, owner.username, () => undefined);
    try {
      for (let i = 0; nowMs() - t0 < 90_000; i++) {
        const nonce = `settle-${tag}-${Math.round(t0)}-${i}`;
        const sent = nowMs();
        const acked = await new Promise<number>((resolve) => {
          const timer = setTimeout(() => resolve(Infinity), 3000);
          const onMessage = (data: Buffer): void => {
            const raw = data.toString();
            if (raw.includes(`"nonce":"${nonce}"`)) {
              clearTimeout(timer);
              probe.off('message', onMessage);
              resolve(raw.includes('"chat.ack"') ? nowMs() - sent : Infinity);
            }
          };
          probe.on('message', onMessage);
          probe.send(`{"type":"chat.send","channel":"${owner.username}","text":"settle ${i} @${sent.toFixed(3)}","nonce":"${nonce}"}`);
        });
        if (acked < 300) break;
        await sleep(1000);
      }
    } finally {
      probe.terminate();
    }
    log(`settled in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  };
  /**
   * The ladder: every rate of `--rates`, so that overload shows whether the path degrades (acks stay near its
   * capacity, the excess is refused `unavailable` at once) or collapses; it stops after a rate whose acked throughput
   * fell below half of the best step's (a collapse), so backlogs do not pile up.
   */
  const ladder = async (rooms: Account[], into: WsStep[]): Promise<void> => {
    let best = 0;
    for (const rate of c.rates) {
      const step = await wsRun(rooms, rate, c.seconds);
      into.push(step);
      best = Math.max(best, step.ackedPerSecond);
      // let the command side, the projection, the publisher and the fan-out work off the step's backlog before the
      // next step
      await settle();
      if (step.ackedPerSecond < 0.9 * rate) notes.push(`${rooms.length} room(s): ${rate} msgs/s not sustained (${step.ackedPerSecond}/s acked)`);
      if (step.ackedPerSecond < 0.5 * best) {
        notes.push(`${rooms.length} room(s): collapsed at ${rate} msgs/s (${step.ackedPerSecond}/s acked, best ${best}/s); higher rates skipped`);
        break;
      }
    }
  };
  return { run: wsRun, settle, ladder };
}
