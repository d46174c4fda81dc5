/**
 * Chat fan-out benchmark (issue 3). N viewers subscribe to one channel on the realtime edge `/ws`; senders send
 * M chat messages/s for T seconds; it measures delivered messages/s across all viewers, end-to-end latency
 * (send time embedded in the text → a sampled viewer's receive time, same machine clock), memory per idle
 * connection of the edge (VmRSS before/after connecting the viewers), and the CPU seconds of every server process
 * (and of the clients) during the send phase. The same scenario then runs against a plain Socket.IO server doing
 * only fan-out (the baseline), and both are compared per server CPU-second.
 *
 * Modes: default = the whole chat path (startE2ePlatform; owner + moderators send `chat.send` over `/ws?token=`);
 * `--edge-only` = the realtime edge alone with synthetic `ChatMessageSent` events published to JetStream.
 * Bulk viewers are raw-TCP WebSocket clients that only count frames (./fanout/raw-ws.ts), in child processes;
 * `--samplers` of the viewers are full clients measuring latency.
 * Writes bench/results/<out>.json and .md with the machine it ran on.
 * Usage: node bench/dist/chat-fanout.js [--viewers 5000] [--rate 50] [--seconds 30] [--edge-only] [--only eventcast|baseline]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '@eventcast/e2e/harness';
import { codeVersion } from './code-version.js';
import { openFileLimits, waitForQuietMachine } from './fanout/proc.js';
import { renderMarkdown, type ChatFanoutResult } from './fanout/report.js';
import { runScenario, type ScenarioOptions, type ScenarioResult } from './fanout/scenario.js';
import { startEventcastEdgeOnly, startEventcastFull, startSocketIoBaseline, type Target } from './fanout/targets.js';

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    samplers: { type: 'string', default: '50' },
    procs: { type: 'string', default: '2' },
    receivers: { type: 'string', default: 'native' },
    'poll-ms': { type: 'string', default: '20' },
    'pin-fanout': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '64' },
    drain: { type: 'string', default: '20' },
    'edge-only': { type: 'boolean', default: false },
    'edge-event': { type: 'string', default: 'ChatMessageSent' },
    only: { type: 'string', default: 'all' },
    out: { type: 'string', default: 'chat-fanout' },
    'quiet-below': { type: 'string', default: '25' },
    'quiet-wait': { type: 'string', default: '180' },
  },
});

const opts: ScenarioOptions = {
  viewers: Number(values.viewers),
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  warmupSeconds: Number(values.warmup),
  samplers: Math.min(Number(values.samplers), Number(values.viewers)),
  receiverProcesses: Math.max(1, Number(values.procs)),
  connectConcurrency: Number(values.concurrency),
  drainSeconds: Number(values.drain),
  sourceAddresses: 250,
  receivers: values.receivers === 'node' ? 'node' : 'native',
  receiverPollMs: Number(values['poll-ms']),
  pinFanout: values['pin-fanout'] ?? false,
};

/**
 * Sets the CPU affinity of every thread of `pid` to `cpu` (util-linux `taskset -a -p -c`).
 * @throws {Error} when taskset fails (not installed, no such process).
 */
function pin(pid: number, cpu: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}
const edgeOnly = values['edge-only'] ?? false;
const edgeEvent = values['edge-event'] === 'ChannelInfoUpdated' ? 'ChannelInfoUpdated' : 'ChatMessageSent';

function log(s: string): void {
  process.stderr.write(`[chat-fanout ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
}

/**
 * Waits (bounded) for the machine to be quiet, starts a target, runs the scenario and always disposes the target;
 * returns the result or the error text.
 */
async function measure(start: () => Promise<Target>): Promise<ScenarioResult | { error: string }> {
  const busy = await waitForQuietMachine(Number(values['quiet-below']), Number(values['quiet-wait']));
  log(`machine busy ${busy} % before starting`);
  let target: Target | undefined;
  try {
    target = await start();
    if (opts.pinFanout) {
      // the fan-out process (realtime / Socket.IO server) gets CPU 1 to itself, as a dedicated edge host would;
      // this process and everything it starts afterwards (clients, other apps, private nats) stay on CPU 0
      pin(target.fanoutPid, 1);
      log(`${target.name}: fan-out process ${target.fanoutPid} pinned to CPU 1, the rest to CPU 0`);
    }
    return { ...(await runScenario(target, opts, log)), busyBeforeStartPercent: busy };
  } catch (e) {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    return { error: (e as Error).message };
  } finally {
    await target?.dispose().catch((e: unknown) => log(`dispose failed: ${String(e)}`));
  }
}

async function main(): Promise<void> {
  for (const x of [opts.viewers, opts.rate, opts.seconds, opts.warmupSeconds, opts.samplers, opts.drainSeconds]) {
    if (!Number.isFinite(x) || x < 0) throw new Error('numeric options must be non-negative numbers');
  }
  if (opts.seconds > 600 || opts.viewers > 15_000) throw new Error('bounded: --seconds ≤ 600, --viewers ≤ 15000');
  const files = openFileLimits();
  // each side holds about N sockets (+ NATS, DB, logs); the client processes hold N / procs each
  if (files.soft < opts.viewers + 1024) {
    throw new Error(`open-file limit ${files.soft} is too low for ${opts.viewers} viewers: run through 'npm run bench:chat' (raises it with ulimit -n) or raise it yourself`);
  }
  const load = loadavg();
  log(`machine: ${cpus().length} cores, load average ${load.map((x) => x.toFixed(2)).join(' ')}, open files ${files.soft}`);
  const which = values.only;
  if (opts.pinFanout) pin(process.pid, 0);
  const eventcast =
    which === 'baseline' ? undefined : await measure(() => (edgeOnly ? startEventcastEdgeOnly(edgeEvent) : startEventcastFull(Math.max(0, Math.ceil(opts.rate / 5) - 1))));
  const baseline = which === 'eventcast' ? undefined : await measure(() => startSocketIoBaseline());

  const result: ChatFanoutResult = {
    benchmark: 'chat-fanout',
    date: new Date().toISOString(),
    code: codeVersion(ROOT),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release(), loadAverageAtStart: load.map((x) => Math.round(x * 100) / 100), openFiles: files.soft },
    mode: edgeOnly ? `edge-only (${edgeEvent})` : 'full path',
    settings: { ...opts },
    eventcast,
    baseline,
    targets: { p99LatencyMs: 50, perCpuRatio: 10, memoryPerConnectionKiB: 4 },
  };
  const dir = join(ROOT, 'bench', 'results');
  writeFileSync(join(dir, `${values.out}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const md = renderMarkdown(result);
  writeFileSync(join(dir, `${values.out}.md`), md);
  process.stdout.write(`${md}\n`);
}

await main();
// child processes and sockets are closed; make sure a stray handle does not keep the benchmark alive
process.exit(0);
