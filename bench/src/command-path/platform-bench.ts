/**
 * Platform phases of the command-path benchmark, on a whole platform started as the end-to-end tests start it
 * (startE2ePlatform: private NATS with the platform's users, fresh PostgreSQL database, all five apps, LOG_LEVEL=info):
 * - **ws**: `chat.send` over the realtime edge's WebSocket (edge → NATS request → command-api → event store → publisher
 *   → JetStream → edge fan-out and query-api projection), open loop at a ladder of rates into ONE room, and the same
 *   rate spread over many rooms; per rate: acks/s, send → `chat.ack` latency, send → `ChatMessageSent` frame at viewers,
 *   refusals, and the CPU of every process;
 * - **http**: `POST /channels/:username/chat/messages` with autocannon (closed loop, `connections` at once) into one room;
 * - **fanout**: viewers on three edges (the platform's and two more realtime processes) receive the hot room.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { ROOT, startE2ePlatform, type E2eEnv } from '@eventcast/e2e/harness';
import { freePort, platformProcesses, waitHealthy } from '@eventcast/launcher';
import { cpuSeconds, findPids, machineCpu, nowMs, sleep, summarize, type Summary } from '../fanout/proc.js';

/** A registered account. */
interface Account {
  username: string;
  token: string;
}

/** CPU of a process group over a window, in cores. */
export type CpuShare = Record<string, number>;

/** One open-loop WebSocket step. */
export interface WsStep {
  rooms: number;
  targetRate: number;
  seconds: number;
  sent: number;
  acked: number;
  ackedPerSecond: number;
  refused: Record<string, number>;
  /** Sends without an answer when the drain ended. */
  unanswered: number;
  ackMs: Summary;
  /** Send → `ChatMessageSent` frame at the viewers. */
  deliveredMs: Summary;
  cpuCores: CpuShare;
  machineBusyPercent: number;
}

/** The HTTP step (autocannon). */
export interface HttpStep {
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  cpuCores: CpuShare;
  machineBusyPercent: number;
}

/** The multi-edge fan-out step. */
export interface FanoutStep {
  edges: number;
  viewersPerEdge: number;
  rate: number;
  seconds: number;
  sent: number;
  /** Sends acked (the rest were refused, e.g. `unavailable` by the edge's admission limit: never sent to viewers). */
  acked: number;
  /** Per edge: frames delivered ÷ (acked sends × viewers on it), and send → frame latency. */
  perEdge: Array<{ edge: number; deliveredShare: number; latencyMs: Summary }>;
  cpuCores: CpuShare;
  machineBusyPercent: number;
}

/** Everything the platform phases found. */
export interface PlatformResults {
  ws: WsStep[];
  wsManyRooms: WsStep[];
  http: HttpStep | null;
  fanout: FanoutStep | null;
  profileDir: string | null;
  /** Process id of each app of the platform (names the `.cpuprofile` files: `CPU.<date>.<time>.<pid>.…`). */
  appPids: Record<string, number>;
  notes: string[];
}

/** Options of {@link platformBench}. */
export interface PlatformBenchOptions {
  phases: ReadonlySet<string>;
  rates: readonly number[];
  seconds: number;
  senders: number;
  viewers: number;
  manyRooms: number;
  httpConnections: number;
  fanoutViewersPerEdge: number;
  fanoutRate: number;
  /** Write V8 CPU profiles of every app (`--cpu-prof`) to a directory. */
  profile: boolean;
}

async function register(api: string, username: string): Promise<Account> {
  const r = await fetch(`${api}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'benchmark-password' }),
  });
  if (!r.ok) throw new Error(`register ${username}: ${r.status} ${await r.text()}`);
  const b = (await r.json()) as { token: string };
  return { username, token: b.token };
}

type Frame = { type: string; [k: string]: unknown };

/** Opens a `ws` client, subscribes to `channel`, resolves on `subscribed`. Frames are parsed only when `wants` says so. */
function openWs(url: string, channel: string, onFrame: (t: number, raw: string) => void): Promise<WebSocket> {
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
function sentAtOf(text: string): number {
  const at = text.lastIndexOf('@');
  return at < 0 ? NaN : Number(text.slice(at + 1));
}

/** CPU-second counters of the platform's processes (per pid; a pid that came or went during the window is left out). */
class CpuMeter {
  private start = new Map<string, Map<number, number>>();
  private t0 = 0;
  private m0 = machineCpu();
  constructor(private readonly groups: () => Record<string, number[]>) {}
  begin(): void {
    this.t0 = nowMs();
    this.m0 = machineCpu();
    this.start = new Map(Object.entries(this.groups()).map(([k, pids]) => [k, new Map(pids.map((p) => [p, cpuSeconds(p)]))]));
  }
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

/** Starts one more realtime edge on the platform's NATS, Redis and secrets. */
async function startExtraEdge(env: E2eEnv, shared: Record<string, string>, logDir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const spec = platformProcesses({ rootDir: ROOT, env: { DATABASE_URL: env.db.url, ...env.nats.secretsEnv(), ...shared }, logDir }, { ...env.platform.ports, realtime: port }).find((s) => s.name === 'realtime');
  if (!spec) throw new Error('no realtime process spec');
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: { ...process.env, ...spec.env }, stdio: 'ignore' });
  await waitHealthy(spec.health, 60_000, () => (child.exitCode !== null ? `exited (${child.exitCode})` : null));
  return { port, child };
}

/** Runs the platform phases. */
export async function platformBench(o: PlatformBenchOptions, log: (s: string) => void): Promise<PlatformResults> {
  const profileDir = o.profile ? mkdtempSync(join(tmpdir(), 'eventcast-cmdbench-prof-')) : null;
  const shared: Record<string, string> = {
    JWT_SECRET: randomBytes(32).toString('hex'),
    STREAM_KEY_SECRET: randomBytes(32).toString('hex'),
    REALTIME_CONNECTIONS_PER_IP_PER_10S: '0',
    // one sender connection carries many messages per second (the edge's 10/s per connection is for people)
    REALTIME_CHAT_SENDS_PER_S: '100000',
    LOG_LEVEL: 'info',
    // the benchmark registers its room owners from one address
    AUTH_RATE_LIMIT_PER_MINUTE: '1000',
  };
  const appEnv = { ...shared, ...(profileDir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` } : {}) };
  log('starting the platform…');
  const env = await startE2ePlatform({ logLevel: 'info', env: appEnv });
  const extra: ChildProcess[] = [];
  const notes: string[] = [];
  const out: PlatformResults = { ws: [], wsManyRooms: [], http: null, fanout: null, profileDir, appPids: { ...env.platform.pids }, notes };
  const sockets: WebSocket[] = [];
  try {
    const api = env.platform.urls.commandApi;
    const wsUrl = env.platform.urls.realtime;
    const pids = env.platform.pids;
    const dbName = new URL(env.db.url).pathname.slice(1);
    const pgPids = (): number[] => {
      try {
        return execFileSync('psql', ['-At', '-d', env.db.url, '-c', `SELECT pid FROM pg_stat_activity WHERE datname = '${dbName}' AND pid <> pg_backend_pid()`])
          .toString()
          .split('\n')
          .filter(Boolean)
          .map(Number);
      } catch {
        return [];
      }
    };
    // the private nats-server runs from a config file (`-c …/nats.conf`) that names its port
    const confPort = (cmd: string): boolean => {
      const conf = / -c (\S+)/.exec(cmd)?.[1];
      try {
        return conf !== undefined && new RegExp(`\\b${env.nats.port}\\b`).test(readFileSync(conf, 'utf8'));
      } catch {
        return false;
      }
    };
    const natsPids = findPids((cmd, comm) => comm === 'nats-server' && (cmd.includes(` -p ${env.nats.port} `) || confPort(cmd)));
    const groups = (): Record<string, number[]> => ({
      realtime: [pids['realtime'] ?? 0, ...extra.map((c) => c.pid ?? 0)],
      'command-api': [pids['command-api'] ?? 0],
      'query-api': [pids['query-api'] ?? 0],
      'nats-server': natsPids,
      postgres: pgPids(),
      bench: [process.pid],
    });
    const meter = new CpuMeter(groups);
    const tag = Date.now().toString(36).slice(-6);
    const owner = await register(api, `cb_${tag}`);

    /** Open-loop run of `rate` msgs/s for `seconds` over `senders`, into `rooms` (each sender in one room). */
    const wsRun = async (rooms: Account[], rate: number, seconds: number): Promise<WsStep> => {
      const pending = new Map<string, number>();
      const ackMs: number[] = [];
      const deliveredMs: number[] = [];
      const refused: Record<string, number> = {};
      let acked = 0;
      const conns: WebSocket[] = [];
      const nSenders = Math.max(o.senders, rooms.length);
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
      for (let i = 0; i < o.viewers; i++) {
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

    // warm-up: caches, JIT, pool connections
    await wsRun([owner], 200, 2);
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
      for (const rate of o.rates) {
        const step = await wsRun(rooms, rate, o.seconds);
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
    /** Runs one phase; a failure is recorded in the notes and the next phase runs. */
    const phase = async (name: string, run: () => Promise<void>): Promise<void> => {
      if (!o.phases.has(name)) return;
      try {
        await run();
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        notes.push(`phase ${name} failed: ${msg.slice(0, 300)}`);
        log(`phase ${name} failed: ${msg}`);
      }
    };
    await phase('ws', () => ladder([owner], out.ws));
    await phase('ws-many', async () => {
      const rooms: Account[] = [];
      for (let i = 0; i < o.manyRooms; i++) rooms.push(await register(api, `cb_${tag}_r${i}`));
      await ladder(rooms, out.wsManyRooms);
    });
    await phase('http', async () => {
      let n = 0;
      meter.begin();
      const r = await autocannon({
        url: `${api}/channels/${owner.username}/chat/messages`,
        connections: o.httpConnections,
        duration: o.seconds,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
            setupRequest: (req) => ({ ...req, body: JSON.stringify({ text: `http bench ${n++}` }) }),
          },
        ],
      });
      const cpu = meter.end();
      out.http = {
        connections: o.httpConnections,
        seconds: o.seconds,
        requestsPerSecond: Math.round(r.requests.average),
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        cpuCores: cpu.cores,
        machineBusyPercent: cpu.busy,
      };
      log(`http: ${out.http.requestsPerSecond} req/s (non-2xx ${r.non2xx}), p50 ${r.latency.p50} p99 ${r.latency.p99} ms, cpu ${JSON.stringify(cpu.cores)}`);
    });
    await phase('fanout', async () => {
      const edges = [env.platform.ports.realtime];
      for (let i = 0; i < 2; i++) {
        const e = await startExtraEdge(env, shared, env.logDir);
        extra.push(e.child);
        edges.push(e.port);
      }
      const lat: number[][] = edges.map(() => []);
      const conns: WebSocket[] = [];
      for (const [e, port] of edges.entries()) {
        for (let v = 0; v < o.fanoutViewersPerEdge; v++) {
          conns.push(
            await openWs(`ws://127.0.0.1:${port}/ws`, owner.username, (t, raw) => {
              if (!raw.includes('"ChatMessageSent"')) return;
              const f = JSON.parse(raw) as { event?: { data?: { text?: string } } };
              const sent = sentAtOf(f.event?.data?.text ?? '');
              if (Number.isFinite(sent)) lat[e]?.push(t - sent);
            }),
          );
        }
      }
      sockets.push(...conns);
      let acked = 0;
      const sender = await openWs(`${wsUrl}?token=${encodeURIComponent(owner.token)}`, owner.username, (_t, raw) => {
        if (raw.includes('"chat.ack"')) acked++;
      });
      sockets.push(sender);
      await sleep(500);
      meter.begin();
      const total = Math.round(o.fanoutRate * o.seconds);
      const start = nowMs();
      let sent = 0;
      while (sent < total) {
        const due = Math.min(total, Math.floor(((nowMs() - start) / 1000) * o.fanoutRate) + 1);
        for (; sent < due; sent++) {
          const t = nowMs();
          sender.send(`{"type":"chat.send","channel":"${owner.username}","text":"fanout ${sent} @${t.toFixed(3)}","nonce":"f-${tag}-${sent}"}`);
        }
        await sleep(5);
      }
      // Wait for the last replies, then for the frames of every acked send.
      const quietUntil = nowMs() + 5_000;
      let last = -1;
      while (acked !== last && nowMs() < quietUntil) {
        last = acked;
        await sleep(500);
      }
      const expect = acked * o.fanoutViewersPerEdge;
      const until = nowMs() + 10_000;
      while (lat.some((l) => l.length < expect) && nowMs() < until) await sleep(100);
      const cpu = meter.end();
      out.fanout = {
        edges: edges.length,
        viewersPerEdge: o.fanoutViewersPerEdge,
        rate: o.fanoutRate,
        seconds: o.seconds,
        sent,
        acked,
        perEdge: lat.map((l, e) => ({ edge: e + 1, deliveredShare: Math.round((l.length / (expect || 1)) * 10_000) / 10_000, latencyMs: summarize(l) })),
        cpuCores: cpu.cores,
        machineBusyPercent: cpu.busy,
      };
      log(`fanout: ${acked} of ${sent} sends acked`);
      for (const p of out.fanout.perEdge) log(`fanout edge ${p.edge}: delivered ${(p.deliveredShare * 100).toFixed(2)} %, p50 ${p.latencyMs.p50} p99 ${p.latencyMs.p99} ms`);
      for (const ws of [...conns, sender]) ws.terminate();
    });
    return out;
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const c of extra) c.kill('SIGTERM');
    await Promise.all(extra.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())))));
    // An overloaded run can answer NATS requests after the requester's reply permission lapsed: the harness reports
    // such permission violations; here they are a symptom of overload, recorded rather than fatal.
    await env.dispose().catch((e: unknown) => notes.push(`platform stop: ${String(e instanceof Error ? e.message : e).split('\n').slice(0, 3).join(' / ')}`));
    if (profileDir) notes.push(`profiles: ${readdirSync(profileDir).length} files in ${profileDir}`);
  }
}
