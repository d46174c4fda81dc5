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
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type WebSocket from 'ws';
import { ROOT, startE2ePlatform, type E2eEnv } from '@eventcast/e2e/harness';
import { freePort, platformProcesses, waitHealthy } from '@eventcast/launcher';
import { findPids, nowMs, sleep, summarize, type Summary } from '../fanout/proc.js';
import { CpuMeter, httpLoad, openWs, postgresBackendPids, sentAtOf, wsLoad, type Account, type CpuShare, type HttpStep, type WsStep } from './ws-load.js';

export type { CpuShare, HttpStep, WsStep } from './ws-load.js';

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

/** Starts one more realtime edge on the platform's NATS, Redis and secrets; resolves once it is healthy. */
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
    RATE_LIMITS: 'auth=1000/1m, api=100000000/1m',
    // the benchmark's senders hold one access token for the whole run (a client would refresh it every 15 min)
    AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400',
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
      postgres: postgresBackendPids(env.db.url),
      bench: [process.pid],
    });
    const meter = new CpuMeter(groups);
    const tag = Date.now().toString(36).slice(-6);
    const owner = await register(api, `cb_${tag}`);
    const { run: wsRun, ladder } = wsLoad({ wsUrl, owner, senders: o.senders, viewers: o.viewers, rates: o.rates, seconds: o.seconds, tag, meter, sockets, notes, log });
    // warm-up: caches, JIT, pool connections
    await wsRun([owner], 200, 2);

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
      out.http = await httpLoad({ url: `${api}/channels/${owner.username}/chat/messages`, token: owner.token, connections: o.httpConnections, seconds: o.seconds, meter });
      log(`http: ${out.http.requestsPerSecond} req/s (non-2xx ${out.http.non2xx}), p50 ${out.http.latencyMs.p50} p99 ${out.http.latencyMs.p99} ms, cpu ${JSON.stringify(out.http.cpuCores)}`);
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
