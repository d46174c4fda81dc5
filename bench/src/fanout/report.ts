/** The results file of the chat fan-out benchmark and its Markdown rendering. */
import type { ScenarioOptions, ScenarioResult } from './scenario.js';

/** What bench/results/chat-fanout.json holds. */
export interface ChatFanoutResult {
  benchmark: 'chat-fanout';
  date: string;
  code: { commit: string; uncommittedOutsideBench: string[] };
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; kernel: string; loadAverageAtStart: number[]; openFiles: number };
  mode: string;
  settings: ScenarioOptions;
  eventcast: ScenarioResult | { error: string } | undefined;
  baseline: ScenarioResult | { error: string } | undefined;
  targets: { p99LatencyMs: number; perCpuRatio: number; memoryPerConnectionKiB: number };
}

function ok(r: ScenarioResult | { error: string } | undefined): r is ScenarioResult {
  return r !== undefined && !('error' in r);
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '–');
const yes = (b: boolean): string => (b ? '**met**' : '**not met**');

/** Renders the results as the Markdown page bench/results/chat-fanout.md. */
export function renderMarkdown(r: ChatFanoutResult): string {
  const s = r.settings;
  const e = r.eventcast;
  const b = r.baseline;
  const cols = [ok(e) ? e : undefined, ok(b) ? b : undefined].filter((x): x is ScenarioResult => x !== undefined);
  const lines: string[] = [
    `# Chat fan-out — ${r.date}`,
    '',
    `Machine: ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, Linux ${r.machine.kernel}; ` +
      `load average at start ${r.machine.loadAverageAtStart.join(' / ')}; everything on loopback on this one machine (servers and clients share the ${r.machine.cores} cores).`,
    `Code: commit ${r.code.commit}${r.code.uncommittedOutsideBench.length ? ` plus ${r.code.uncommittedOutsideBench.length} uncommitted files outside bench/ (others' work in progress; the dist that ran may include it)` : ''}.`,
    `Mode: **${r.mode}**. Settings: ${s.viewers} viewers on one channel (${s.samplers} of them full clients measuring latency, the rest raw-TCP frame counters in ` +
      `${s.receiverProcesses} processes, ${s.receivers === 'native' ? `C, polling every ${s.receiverPollMs} ms` : 'Node, one event per read'})${s.pinFanout ? '; the fan-out process pinned alone to CPU 1, the processes the benchmark starts (clients, other apps, private nats-server) to CPU 0 (system PostgreSQL and Redis unpinned)' : ''}, ${s.rate} messages/s for ${s.seconds} s after a ${s.warmupSeconds} s warm-up.`,
    '',
  ];
  for (const [name, x] of [['Eventcast', e], ['Socket.IO baseline', b]] as const) {
    if (x && 'error' in x) lines.push(`**${name} failed:** ${x.error}`, '');
  }
  if (cols.length) {
    const row = (label: string, f: (x: ScenarioResult) => string) => `| ${label} | ${cols.map(f).join(' | ')} |`;
    lines.push(
      `| | ${cols.map((c) => c.target).join(' | ')} |`,
      `|---|${cols.map(() => '---:').join('|')}|`,
      row('viewers connected (requested)', (c) => `${fmt(c.viewersReady)} (${fmt(c.viewersRequested)})`),
      row('viewers still open at the end', (c) => fmt(c.viewersOpenAtEnd)),
      row('senders', (c) => fmt(c.senders)),
      row('messages sent (acked)', (c) => `${fmt(c.sent)} (${fmt(c.acked)})`),
      row('send errors', (c) => (Object.keys(c.sendErrors).length ? Object.entries(c.sendErrors).map(([k, v]) => `${k}: ${v}`).join(', ') : 'none')),
      row('frames delivered / expected', (c) => `${fmt(c.delivered)} / ${fmt(c.expected)} (${fmt(100 * c.completeness)} %)`),
      row('**delivered msgs/s** (during the send phase)', (c) => `**${fmt(c.deliveredPerSecond)}**`),
      row('bytes per delivered frame (payload)', (c) => fmt(c.bytesPerFrame)),
      row('**latency p50 / p99 / max** (ms)', (c) => `**${fmt(c.latencyMs.p50)} / ${fmt(c.latencyMs.p99)} / ${fmt(c.latencyMs.max)}**`),
      row('latency samples (missing at samplers)', (c) => `${fmt(c.latencyMs.n)} (${fmt(c.samplerMissing)})`),
      row('send → ack p50 / p99 (ms)', (c) => (c.ackLatencyMs.n ? `${fmt(c.ackLatencyMs.p50)} / ${fmt(c.ackLatencyMs.p99)}` : 'n/a (no acks)')),
      row('**memory per idle connection** (fan-out process RSS Δ / N)', (c) => `**${fmt(c.memory.perConnectionKiB)} KiB** (${fmt(c.memory.rssBeforeKiB)} → ${fmt(c.memory.rssAfterKiB)} KiB)`),
      row('CPU window (send start → drained)', (c) => `${fmt(c.windowSeconds)} s`),
      row('**delivered msgs per CPU-second, fan-out process**', (c) => `**${fmt(c.deliveredPerCpuSecond.fanout)}**`),
      row('delivered msgs per user-space CPU-second, fan-out process', (c) => fmt(c.deliveredPerCpuSecond.fanoutUserOnly)),
      row('delivered msgs per CPU-second, every unshared server process', (c) => fmt(c.deliveredPerCpuSecond.wholePath)),
      row('machine busy during the window (all cores)', (c) => `${fmt(c.machineBusyPercent)} %`),
      row('machine CPU s not charged to the processes below (outside load, interrupts)', (c) => fmt(c.otherCpuSeconds)),
      row('machine irq + softirq CPU s (loopback delivery; overlaps system time below)', (c) => fmt(c.irqCpuSeconds)),
      row('machine busy right before the run started', (c) => (c.busyBeforeStartPercent === undefined ? '–' : `${fmt(c.busyBeforeStartPercent)} %`)),
      '',
      '### CPU during the send phase (send start → drained)',
      '',
      '| run | process | CPU s | user s | system s | % of one core |',
      '|---|---|---:|---:|---:|---:|',
      ...cols.flatMap((c) =>
        [...c.serverCpu, ...c.clientCpu].map((p) => `| ${c.target} | ${p.name} | ${fmt(p.seconds)} | ${fmt(p.userSeconds)} | ${fmt(p.systemSeconds)} | ${fmt(p.percentOfCore)} |`),
      ),
      '',
    );
  }
  lines.push('## Targets', '');
  if (ok(e)) {
    lines.push(`- p99 latency < ${r.targets.p99LatencyMs} ms at ${e.viewersReady} viewers & ${s.rate} msgs/s: ${fmt(e.latencyMs.p99)} ms → ${yes(e.latencyMs.p99 < r.targets.p99LatencyMs && e.viewersReady >= s.viewers)}.`);
    lines.push(`- memory per idle connection within a few KB (≤ ${r.targets.memoryPerConnectionKiB} KiB): ${fmt(e.memory.perConnectionKiB)} KiB → ${yes(e.memory.perConnectionKiB <= r.targets.memoryPerConnectionKiB)}.`);
  }
  if (ok(e) && ok(b)) {
    const ratio = e.deliveredPerCpuSecond.fanout / b.deliveredPerCpuSecond.fanout;
    const ratioWhole = e.deliveredPerCpuSecond.wholePath / b.deliveredPerCpuSecond.wholePath;
    const ratioUser = e.deliveredPerCpuSecond.fanoutUserOnly / b.deliveredPerCpuSecond.fanoutUserOnly;
    lines.push(
      `- Eventcast ≥ ${r.targets.perCpuRatio}× the baseline in delivered msgs per server CPU-second: fan-out process vs Socket.IO server ` +
        `${fmt(ratio)}× → ${yes(ratio >= r.targets.perCpuRatio)}; counting every unshared Eventcast server process on the path: ${fmt(ratioWhole)}× → ${yes(ratioWhole >= r.targets.perCpuRatio)}; ` +
        `user-space CPU only (fan-out processes): ${fmt(ratioUser)}×.`,
    );
    if (b.completeness < 0.999) lines.push(`- The baseline delivered only ${fmt(100 * b.completeness)} % of the expected frames (a server that cannot keep up lowers its msgs/s, not its per-CPU figure).`);
  }
  lines.push('', '## How it was measured', '');
  for (const c of cols) for (const n of c.notes) lines.push(`- ${n}`);
  lines.push(
    (s.receivers === 'native'
      ? `- Bulk viewers: C epoll clients (bench/native/ws-bulk.c) that sleep ${s.receiverPollMs} ms between non-blocking epoll rounds and read what arrived meanwhile, ` +
        'standing in for viewers on other machines: on loopback the kernel charges the receiving side of every send, including waking a blocked reader, ' +
        'to the sending server; a polling reader is never woken by a send. Same for both servers. '
      : '- ') +
      'Bulk viewers: raw-TCP WebSocket clients (own HTTP Upgrade, frame headers walked, payloads not decoded, pings answered), spread over ' +
      `${s.sourceAddresses} loopback source addresses 127.0.x.y; the edge's per-IP connection limit is raised to 1,000,000 per 10 s via \`REALTIME_CONNECTIONS_PER_IP_PER_10S\`.`,
    '- Latency: the sender puts `performance.timeOrigin + performance.now()` in the message text right before sending; a sampled viewer takes the same clock ' +
      'when the frame arrives, before parsing it (all processes on one machine, one clock). The samplers connect after the bulk viewers and live in the ' +
      'orchestrator process with the senders. Send → ack: full path, `chat.send` → `chat.ack` (edge → NATS request → command side decides and appends → reply); edge-only, JetStream publish → PubAck.',
    '- Memory: VmRSS of the fan-out process 2 s after start-up and 3 s after the last viewer subscribed, divided by the viewers connected (idle: no chat yet).',
    '- CPU: utime+stime from /proc/<pid>/stat between the start of the send phase and the moment every expected frame arrived (or 5 s without progress, at most ' +
      `${s.drainSeconds} s after the last send). Redis is the machine's shared instance (presence), shown but not counted as Eventcast's.`,
    '- Delivered msgs/s counts relayed chat frames received by all viewers during the send phase, divided by its duration.',
    '',
  );
  return lines.join('\n');
}
