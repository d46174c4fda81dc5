/**
 * One run of the chat fan-out scenario against a {@link Target}: connect N idle viewers (bulk raw clients in child
 * processes + full-parsing samplers here), measure the fan-out process's memory per idle connection, warm up, then
 * send M messages/s for T seconds and measure delivery, latency and CPU.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loopbackAddresses, type RawCounters } from './raw-ws.js';
import type { ReceiverCommand, ReceiverEvent } from './receivers.js';
import { NativeReceiverProc } from './native-receivers.js';
import { cpuTimes, findPids, machineCpu, nowMs, rssKiB, sleep, summarize, type Summary } from './proc.js';
import type { Sampler, Sender, Target } from './targets.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Kernel threads finishing deferred network work (loopback softirqs) for servers and clients alike. */
const KSOFTIRQD = 'ksoftirqd (kernel, shared)';

/** Scenario parameters. */
export interface ScenarioOptions {
  viewers: number;
  /** Messages per second, all senders together. */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Viewers that are full clients measuring latency (included in `viewers`). */
  samplers: number;
  /** Child processes holding the bulk receivers. */
  receiverProcesses: number;
  /** Handshakes in flight per receiver process. */
  connectConcurrency: number;
  /** Longest wait for in-flight frames after the last send, in seconds. */
  drainSeconds: number;
  /** Loopback source addresses to spread connections over. */
  sourceAddresses: number;
  /** Bulk receivers: `native` (C, ../../native/ws-bulk.c, polling) or `node` (./receivers.ts, one event per read). */
  receivers: 'native' | 'node';
  /** Native receivers: sleep between non-blocking epoll rounds, in ms. */
  receiverPollMs: number;
  /** The fan-out process ran alone on CPU 1, everything started by the benchmark on CPU 0. */
  pinFanout: boolean;
}

/** CPU of one named group of processes over the measured window. */
export interface CpuRow {
  name: string;
  pids: number[];
  seconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** Share of one core over the window, %. */
  percentOfCore: number;
  shared: boolean;
}

/** Everything measured in one scenario run. */
export interface ScenarioResult {
  target: string;
  notes: string[];
  viewersRequested: number;
  viewersReady: number;
  bulkReady: number;
  samplersReady: number;
  connectFailures: number;
  connectErrors: string[];
  connectSeconds: number;
  senders: number;
  memory: { fanoutPid: number; rssBeforeKiB: number; rssAfterKiB: number; perConnectionKiB: number };
  sent: number;
  sendSeconds: number;
  /** Send start → end of drain (the CPU window). */
  windowSeconds: number;
  expected: number;
  deliveredDuringSend: number;
  delivered: number;
  deliveredPerSecond: number;
  completeness: number;
  bytesPerFrame: number;
  latencyMs: Summary;
  samplerMissing: number;
  ackLatencyMs: Summary;
  acked: number;
  sendErrors: Record<string, number>;
  serverCpu: CpuRow[];
  clientCpu: CpuRow[];
  /** Delivered messages per CPU-second of the fan-out process alone, and of every unshared server process. */
  deliveredPerCpuSecond: { fanout: number; fanoutUserOnly: number; wholePath: number };
  /** Busy share of the whole machine during the window (all cores, %). */
  machineBusyPercent: number;
  /**
   * Busy CPU seconds of the machine during the window not charged to the measured processes: other processes
   * (outside load) and interrupt work charged to no task.
   */
  otherCpuSeconds: number;
  /** The machine's irq+softirq CPU seconds during the window (loopback delivery; tick sampling also books part of it in tasks' system time). */
  irqCpuSeconds: number;
  /** Busy share of the machine (%) right before this target was started. */
  busyBeforeStartPercent?: number;
  viewersOpenAtEnd: number;
}

/** A bulk-receiver child process (./receivers.ts) and its IPC. */
class ReceiverProc {
  readonly child: ChildProcess;
  private readonly waiting: Array<{ ev: ReceiverEvent['ev']; resolve: (m: ReceiverEvent) => void }> = [];

  constructor() {
    this.child = fork(join(here, 'receivers.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (raw) => {
      const m = raw as ReceiverEvent;
      const i = this.waiting.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m);
    });
  }

  /** Sends `cmd` and waits for the next event of kind `ev` (rejects after `timeoutMs`). */
  request<E extends ReceiverEvent['ev']>(cmd: ReceiverCommand, ev: E, timeoutMs: number): Promise<Extract<ReceiverEvent, { ev: E }>> {
    return new Promise((resolve, reject) => {
      const w = {
        ev,
        resolve: (m: ReceiverEvent) => {
          clearTimeout(t);
          resolve(m as Extract<ReceiverEvent, { ev: E }>);
        },
      };
      const t = setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`receiver process: no ${ev} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(w);
      this.child.send(cmd);
    });
  }

  /** Asks the process to close its connections and exit; kills it after 5 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.send({ cmd: 'close' } satisfies ReceiverCommand);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/**
 * Sends `count` messages evenly at `rate`/s starting now, calling `send(i)` for each; bounded by count and by
 * `count / rate + 10` seconds. @returns the number sent.
 */
async function pace(rate: number, count: number, send: (i: number) => void): Promise<number> {
  const start = performance.now();
  const deadline = start + (count / rate) * 1000 + 10_000;
  let i = 0;
  while (i < count && performance.now() < deadline) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    send(i++);
  }
  return i;
}

/** Runs `n` async tasks with at most `k` in flight; collects results and failures. */
async function pool<T>(n: number, k: number, task: (i: number) => Promise<T>): Promise<{ ok: T[]; failed: string[] }> {
  const ok: T[] = [];
  const failed: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(k, n) }, async () => {
      while (next < n) {
        const i = next++;
        try {
          ok.push(await task(i));
        } catch (e) {
          failed.push((e as Error).message);
        }
      }
    }),
  );
  return { ok, failed };
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Runs the scenario against `target` (which the caller disposes). */
export async function runScenario(target: Target, o: ScenarioOptions, log: (s: string) => void): Promise<ScenarioResult> {
  const addresses = loopbackAddresses(o.sourceAddresses);
  const procs: Array<ReceiverProc | NativeReceiverProc> = [];
  const samplers: Sampler[] = [];
  const senders: Sender[] = [];
  try {
    await sleep(2000);
    const rssBeforeKiB = rssKiB(target.fanoutPid);
    log(`${target.name}: fan-out process ${target.fanoutPid} RSS before ${rssBeforeKiB} KiB; connecting ${o.viewers} viewers`);

    // bulk receivers in child processes
    const t0 = performance.now();
    const bulk = Math.max(0, o.viewers - o.samplers);
    for (let i = 0; i < o.receiverProcesses; i++) procs.push(o.receivers === 'native' ? new NativeReceiverProc(o.receiverPollMs) : new ReceiverProc());
    const shares = procs.map((_, i) => Math.floor(bulk / procs.length) + (i < bulk % procs.length ? 1 : 0));
    const connected = await Promise.all(
      procs.map((p, i) =>
        p.request(
          {
            cmd: 'connect',
            target: { dialect: target.dialect, host: target.host, port: target.port, channel: target.channel },
            count: shares[i] ?? 0,
            addresses,
            offset: i * 101,
            concurrency: o.connectConcurrency,
          },
          'connected',
          600_000,
        ),
      ),
    );
    const bulkReady = connected.reduce((a, c) => a + c.ready, 0);
    const connectErrors = connected.flatMap((c) => c.errors);
    let connectFailures = connected.reduce((a, c) => a + c.failed, 0);

    // latency samplers (full clients, full JSON parsing) in this process
    let phase = 'w';
    const latencies: number[] = [];
    let samplerMeasured = 0;
    const onChat = (t: number, text: string): void => {
      // text: `bench <phase><seq> <sentAtMs>`
      const parts = text.split(' ');
      if (parts[1]?.[0] !== 'm') return;
      samplerMeasured++;
      latencies.push(t - Number(parts[2]));
    };
    const s = await pool(o.samplers, 10, (i) => target.openSampler(onChat, addresses[(i * 13 + 7) % addresses.length] ?? '127.0.0.1'));
    samplers.push(...s.ok);
    connectFailures += s.failed.length;
    connectErrors.push(...s.failed.slice(0, 3));
    const connectSeconds = (performance.now() - t0) / 1000;
    const viewersReady = bulkReady + samplers.length;
    log(`${target.name}: ${viewersReady}/${o.viewers} viewers ready in ${round(connectSeconds, 1)} s (${connectFailures} failed${connectErrors.length ? `: ${connectErrors.slice(0, 2).join('; ')}` : ''})`);

    await sleep(3000);
    const rssAfterKiB = rssKiB(target.fanoutPid);
    const perConnectionKiB = viewersReady ? (rssAfterKiB - rssBeforeKiB) / viewersReady : NaN;
    log(`${target.name}: RSS after ${rssAfterKiB} KiB → ${round(perConnectionKiB)} KiB per idle connection`);

    const senderCount = target.sendersFor(o.rate);
    const sd = await pool(senderCount, 5, (i) => target.openSender(i, addresses[(i * 17 + 3) % addresses.length] ?? '127.0.0.1'));
    if (sd.ok.length === 0) throw new Error(`${target.name}: no sender could connect: ${sd.failed.join('; ')}`);
    senders.push(...sd.ok);
    const text = (seq: number): string => `bench ${phase}${seq} ${nowMs().toFixed(3)}`;
    const sendOne = (i: number): void => senders[i % senders.length]?.send(text(i));

    log(`${target.name}: warm-up ${o.warmupSeconds} s at ${o.rate}/s with ${senders.length} senders`);
    await pace(o.rate, Math.round(o.rate * o.warmupSeconds), sendOne);
    await sleep(2000);
    target.sendStats.ackLatencyMs.length = 0;
    const errorsBefore = { ...target.sendStats.errors };
    const ackedBefore = target.sendStats.acked;

    const bulkStats = async () => Promise.all(procs.map((p) => p.request({ cmd: 'stats' }, 'stats', 10_000)));
    const sumCounters = (st: Array<{ counters: RawCounters }>) => ({
      delivered: st.reduce((a, x) => a + x.counters.delivered, 0),
      bytes: st.reduce((a, x) => a + x.counters.deliveredBytes, 0),
    });
    const cpuSnapshot = () => {
      const groups: Record<string, number[]> = { ...target.processes(), [KSOFTIRQD]: findPids((_cmd, comm) => comm.startsWith('ksoftirqd/')) };
      const per = new Map<number, { user: number; system: number }>();
      for (const pids of Object.values(groups)) for (const pid of pids) per.set(pid, cpuTimes(pid));
      for (const p of procs) if (p.child.pid) per.set(p.child.pid, cpuTimes(p.child.pid));
      per.set(process.pid, cpuTimes(process.pid));
      return { groups, per };
    };

    // measured phase
    phase = 'm';
    const a = { stats: sumCounters(await bulkStats()), cpu: cpuSnapshot(), machine: machineCpu(), t: performance.now() };
    log(`${target.name}: sending ${o.rate}/s for ${o.seconds} s`);
    const sent = await pace(o.rate, Math.round(o.rate * o.seconds), sendOne);
    const sendSeconds = (performance.now() - a.t) / 1000;
    const b = { stats: sumCounters(await bulkStats()), sampler: samplerMeasured };
    const deliveredDuringSend = b.stats.delivered - a.stats.delivered + b.sampler;
    const expected = sent * viewersReady;
    let last = b.stats.delivered + samplerMeasured;
    let lastProgress = performance.now();
    const drainEnd = performance.now() + o.drainSeconds * 1000;
    let cur = b.stats;
    while (performance.now() < drainEnd) {
      const total = cur.delivered - a.stats.delivered + samplerMeasured;
      if (total >= expected) break;
      if (total > last) {
        last = total;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress > 5000) break;
      await sleep(250);
      cur = sumCounters(await bulkStats());
      if (process.env['BENCH_DEBUG']) log(`drain: ${cur.delivered - a.stats.delivered + samplerMeasured} of ${expected}`);
    }
    const endStats = await bulkStats();
    log(`${target.name}: drained ${round((performance.now() - a.t) / 1000 - o.seconds, 1)} s after the send phase`);
    const c = { stats: sumCounters(endStats), cpu: cpuSnapshot(), machine: machineCpu(), t: performance.now() };
    const windowSeconds = (c.t - a.t) / 1000;
    const delivered = c.stats.delivered - a.stats.delivered + samplerMeasured;
    const openAtEnd = endStats.reduce((acc, x) => acc + x.open, 0) + samplers.length;

    const cpuOf = (pids: number[]): { user: number; system: number } => {
      const sum = { user: 0, system: 0 };
      for (const pid of pids) {
        const end = c.cpu.per.get(pid);
        if (end === undefined || !Number.isFinite(end.user)) continue;
        const start = a.cpu.per.get(pid);
        const ok = start !== undefined && Number.isFinite(start.user);
        sum.user += end.user - (ok ? start.user : 0);
        sum.system += end.system - (ok ? start.system : 0);
      }
      return sum;
    };
    const row = (name: string, pids: number[], shared: boolean): CpuRow => {
      const t = cpuOf(pids);
      const seconds = t.user + t.system;
      return { name, pids, seconds: round(seconds), userSeconds: round(t.user), systemSeconds: round(t.system), percentOfCore: round((100 * seconds) / windowSeconds, 1), shared };
    };
    const names = new Set([...Object.keys(a.cpu.groups), ...Object.keys(c.cpu.groups)]);
    const serverCpu: CpuRow[] = [...names].map((name) =>
      row(name, [...new Set([...(a.cpu.groups[name] ?? []), ...(c.cpu.groups[name] ?? [])])], name === KSOFTIRQD || target.shared.includes(name)),
    );
    const clientCpu: CpuRow[] = [
      ...procs.map((p, i) => row(`bulk receivers #${i + 1} (${shares[i] ?? 0} raw clients)`, [p.child.pid ?? 0], false)),
      row(`orchestrator (${samplers.length} samplers, ${senders.length} senders)`, [process.pid], false),
    ];
    const measuredCpu = [...serverCpu, ...clientCpu].reduce((acc, r) => acc + r.seconds, 0);
    const fanoutRow = serverCpu.find((r) => r.pids.includes(target.fanoutPid));
    const fanoutCpu = fanoutRow?.seconds ?? NaN;
    const wholeCpu = serverCpu.filter((r) => !r.shared).reduce((acc, r) => acc + r.seconds, 0);
    const ackedDelta = target.sendStats.acked - ackedBefore;
    const sendErrors: Record<string, number> = {};
    for (const [k, v] of Object.entries(target.sendStats.errors)) if (v - (errorsBefore[k] ?? 0) > 0) sendErrors[k] = v - (errorsBefore[k] ?? 0);
    const bulkDelivered = c.stats.delivered - a.stats.delivered;
    const result: ScenarioResult = {
      target: target.name,
      notes: target.notes,
      viewersRequested: o.viewers,
      viewersReady,
      bulkReady,
      samplersReady: samplers.length,
      connectFailures,
      connectErrors: connectErrors.slice(0, 5),
      connectSeconds: round(connectSeconds, 1),
      senders: senders.length,
      memory: { fanoutPid: target.fanoutPid, rssBeforeKiB, rssAfterKiB, perConnectionKiB: round(perConnectionKiB) },
      sent,
      sendSeconds: round(sendSeconds),
      windowSeconds: round(windowSeconds),
      expected,
      deliveredDuringSend,
      delivered,
      deliveredPerSecond: round(deliveredDuringSend / sendSeconds, 0),
      completeness: round(delivered / (expected || 1), 5),
      bytesPerFrame: round((c.stats.bytes - a.stats.bytes) / (bulkDelivered || 1), 0),
      latencyMs: summarize(latencies),
      samplerMissing: sent * samplers.length - samplerMeasured,
      ackLatencyMs: summarize(target.sendStats.ackLatencyMs),
      acked: ackedDelta,
      sendErrors,
      serverCpu,
      clientCpu,
      deliveredPerCpuSecond: { fanout: round(delivered / fanoutCpu, 0), fanoutUserOnly: round(delivered / (fanoutRow?.userSeconds ?? NaN), 0), wholePath: round(delivered / wholeCpu, 0) },
      machineBusyPercent: round((100 * (c.machine.busy - a.machine.busy)) / (c.machine.total - a.machine.total || 1), 1),
      otherCpuSeconds: round(c.machine.busy - a.machine.busy - measuredCpu),
      irqCpuSeconds: round(c.machine.irq - a.machine.irq),
      viewersOpenAtEnd: openAtEnd,
    };
    log(
      `${target.name}: sent ${sent}, delivered ${delivered}/${expected} (${round(100 * result.completeness, 2)} %), ${result.deliveredPerSecond} msgs/s, ` +
        `latency p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} max ${result.latencyMs.max} ms, fan-out CPU ${fanoutCpu} s`,
    );
    return result;
  } finally {
    for (const s of senders) s.close();
    for (const s of samplers) s.close();
    await Promise.all(procs.map((p) => p.close()));
  }
}
