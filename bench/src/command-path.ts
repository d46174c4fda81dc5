/**
 * Command-path benchmark (issue 12 item 7): how many chat messages per second the command side takes, and how fast it
 * answers, on this machine. See bench/README.md "Command path". Phases (`--phases`, default all):
 * - `store`: appends straight to the PostgreSQL event store, one hot stream and many streams (./command-path/store-bench.ts);
 * - `ws`: `chat.send` over the realtime WebSocket into ONE room at each rate of `--rates`, open loop;
 * - `ws-many`: the same rates spread over `--many-rooms` rooms;
 * - `http`: `POST /channels/:username/chat/messages` with autocannon, `--http-connections` at once, one room;
 * - `fanout`: viewers on three realtime edges receiving the hot room (./command-path/platform-bench.ts).
 * `--profile` runs the apps with `node --cpu-prof` and summarizes the top self-time functions of command-api and
 * realtime into the results (./command-path/profile.ts). `--quick` is a ≈ 1-minute run of the same.
 * Writes bench/results/<out>.md and .json.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ROOT } from '@eventcast/e2e/harness';
import { codeVersion } from './code-version.js';
import { storeBench, type StoreCase } from './command-path/store-bench.js';
import { platformBench, type PlatformResults, type WsStep } from './command-path/platform-bench.js';
import { summarizeProfile, type ProfileSummary } from './command-path/profile.js';
import { floorBench, parseFloorVariants, type FloorVariant } from './command-path/floor-chat.js';
import type { HttpStep as FloorHttpStep, WsStep as FloorStep } from './command-path/ws-load.js';
import { logger, machineInfo, quietGuard, refuseIfAnotherBenchmark } from './video/common.js';

const log = logger('command-path');

const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    phases: { type: 'string' },
    rates: { type: 'string' },
    seconds: { type: 'string' },
    senders: { type: 'string', default: '10' },
    viewers: { type: 'string', default: '20' },
    'many-rooms': { type: 'string', default: '20' },
    'http-connections': { type: 'string', default: '50' },
    'fanout-viewers': { type: 'string' },
    'fanout-rate': { type: 'string' },
    'store-concurrency': { type: 'string', default: '50' },
    profile: { type: 'boolean', default: false },
    'floor-variants': { type: 'string', default: '' },
    'floor-runs': { type: 'string', default: '1' },
    'quiet-below': { type: 'string', default: '25' },
    'quiet-wait': { type: 'string' },
    busy: { type: 'string', default: '' },
    out: { type: 'string' },
  },
});

const quick = a.quick === true;
const phases = new Set((a.phases ?? 'store,floor,ws,ws-many,http,fanout').split(',').map((s) => s.trim()));
const rates = (a.rates ?? (quick ? '1000,2500,5000' : '1000,2500,5000,7500')).split(',').map(Number);
const seconds = Number(a.seconds ?? (quick ? 5 : 30));
const out = a.out ?? (quick ? 'command-path-quick' : 'command-path');

/** `| a | b |` table row. */
const row = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;

function wsTable(steps: WsStep[]): string[] {
  const procs = ['realtime', 'command-api', 'query-api', 'nats-server', 'postgres', 'bench'];
  return [
    row(['rooms', 'target msgs/s', 'acked msgs/s', 'ack p50 ms', 'ack p99 ms', 'delivered p50 ms', 'delivered p99 ms', 'refused / unanswered', ...procs.map((p) => `${p} cores`), 'machine busy %']),
    row(Array<string>(9 + procs.length).fill('---')),
    ...steps.map((s) =>
      row([
        s.rooms,
        s.targetRate,
        s.ackedPerSecond,
        s.ackMs.p50,
        s.ackMs.p99,
        s.deliveredMs.p50,
        s.deliveredMs.p99,
        `${Object.entries(s.refused).map(([k, v]) => `${k} ${v}`).join(', ') || 0} / ${s.unanswered}`,
        ...procs.map((p) => s.cpuCores[p] ?? '–'),
        s.machineBusyPercent,
      ]),
    ),
  ];
}

/** The table of one HTTP step. */
function httpTable(h: FloorHttpStep): string[] {
  return [
    row(['connections', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'cpu cores']),
    row(Array<string>(9).fill('---')),
    row([h.connections, h.requestsPerSecond, h.latencyMs.p50, h.latencyMs.p90, h.latencyMs.p99, h.latencyMs.max, h.non2xx, h.errors, JSON.stringify(h.cpuCores).replace(/"/g, '')]),
  ];
}

function profileSection(p: PlatformResults): { md: string[]; summaries: Record<string, ProfileSummary> } {
  const md: string[] = [];
  const summaries: Record<string, ProfileSummary> = {};
  if (!p.profileDir) return { md, summaries };
  const files = readdirSync(p.profileDir).filter((f) => f.endsWith('.cpuprofile'));
  for (const app of ['command-api', 'realtime', 'query-api']) {
    const pid = p.appPids[app];
    const file = files.find((f) => f.split('.')[3] === String(pid));
    if (!file) {
      md.push(`- ${app}: no profile (pid ${pid}; it must exit normally to write one)`);
      continue;
    }
    const s = summarizeProfile(join(p.profileDir, file));
    summaries[app] = s;
    md.push(`### ${app} (${(s.busyMs / 1000).toFixed(1)} CPU-s sampled over the whole run)`, '', 'Self time by package:', '');
    md.push(row(['package', 'self ms', 'share']), row(['---', '---', '---']), ...s.packages.map((r) => row([r.name, r.selfMs, `${(r.share * 100).toFixed(1)} %`])), '');
    md.push('Top functions by self time:', '', row(['function', 'self ms', 'share']), row(['---', '---', '---']));
    md.push(...s.functions.map((r) => row([`\`${r.name.replace(/\|/g, '\\|')}\``, r.selfMs, `${(r.share * 100).toFixed(1)} %`])), '');
  }
  return { md, summaries };
}

async function main(): Promise<void> {
  refuseIfAnotherBenchmark();
  const machine = machineInfo();
  const quiet = await quietGuard(Number(a['quiet-below']), Number(a['quiet-wait'] ?? (quick ? 0 : 60)), false, log);
  const started = new Date().toISOString();
  let store: StoreCase[] = [];
  if (phases.has('store')) store = await storeBench({ seconds, concurrency: Number(a['store-concurrency']), poolSize: 10 }, log);
  // The bare floor (--floor-runs times, to show its run-to-run spread), then one run per name of --floor-variants,
  // each adding it to the ones before (cumulative). A run that fails is a note; the others and the platform go on.
  const floors: Array<{ variants: FloorVariant[]; steps: FloorStep[]; http: FloorHttpStep | null; notes: string[] }> = [];
  const floorFailures: string[] = [];
  if (phases.has('floor')) {
    const added = [...parseFloorVariants(a['floor-variants'] ?? '')];
    const bareRuns = Math.max(1, Number(a['floor-runs']));
    const runs = [...Array.from({ length: bareRuns }, (): FloorVariant[] => []), ...added.map((_, i) => added.slice(0, i + 1))];
    for (const [n, variants] of runs.entries()) {
      // The HTTP step runs on the first bare floor and on the floor with every variant, when the platform's HTTP phase
      // runs too.
      const httpConnections = (n === 0 || (n === runs.length - 1 && variants.length > 0)) && phases.has('http') ? Number(a['http-connections']) : undefined;
      const label = variants.join('+') || 'bare';
      try {
        const r = await floorBench(
          { rates, seconds, senders: Number(a.senders), viewers: Number(a.viewers), variants: new Set(variants), httpConnections },
          (s) => log(`[${label}] ${s}`),
        );
        floors.push({ variants, ...r });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        floorFailures.push(`floor run ${label} failed: ${msg.slice(0, 300)}`);
        log(`floor run ${label} failed: ${msg}`);
      }
    }
  }
  let platform: PlatformResults | null = null;
  if (['ws', 'ws-many', 'http', 'fanout'].some((p) => phases.has(p))) {
    platform = await platformBench(
      {
        phases,
        rates,
        seconds,
        senders: Number(a.senders),
        viewers: Number(a.viewers),
        manyRooms: Number(a['many-rooms']),
        httpConnections: Number(a['http-connections']),
        fanoutViewersPerEdge: Number(a['fanout-viewers'] ?? (quick ? 20 : 100)),
        fanoutRate: Number(a['fanout-rate'] ?? 1000),
        profile: a.profile === true,
      },
      log,
    );
  }
  const prof = platform ? profileSection(platform) : { md: [], summaries: {} };
  const version = codeVersion(ROOT);
  const busyNote = a.busy || (quiet.quiet ? '' : 'measured while the machine was busy (other builds running)');
  const md: string[] = [
    `# Command path${quick ? ' (quick run)' : ''}`,
    '',
    `Run ${started} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}; ` +
      `commit ${version.commit}${version.uncommittedOutsideBench.length ? ` with uncommitted changes in ${version.uncommittedOutsideBench.join(', ')}` : ''}; ` +
      `load average ${machine.loadAverage1m} at the start, machine ${quiet.busyPercent} % busy before the run.`,
    '',
    ...(busyNote ? [`**${busyNote}: NOT FOR THE RECORD.** Compare runs only with runs made in the same conditions.`, ''] : []),
    `Command: \`node bench/dist/command-path.js ${process.argv.slice(2).join(' ')}\`.`,
    '',
    '## Method',
    '',
    'Everything runs on this machine, on loopback: the platform as the end-to-end tests start it (all five apps, LOG_LEVEL=info, a private ' +
      'nats-server with the platform\'s users, a fresh PostgreSQL database), the clients in the benchmark process. WebSocket senders are ' +
      `${a.senders} connections of the channel owner (\`REALTIME_CHAT_SENDS_PER_S\` raised so one connection may carry many messages; the owner skips slow mode and the room's rate limit), ` +
      `each \`chat.send\` with a nonce (idempotent send), paced open loop in 5-ms ticks for ${seconds} s per rate; ${a.viewers} viewer connections measure send → \`ChatMessageSent\` frame. ` +
      'Acked msgs/s = acks ÷ max(window, time until the last ack). The projection (query-api) and the publisher run as always. HTTP: autocannon, closed loop. ' +
      `Store: ${a['store-concurrency']} closed-loop appenders on a pool of 10 connections (as command-api's). CPU in cores = (utime + stime) ÷ wall time from /proc.`,
    '',
  ];
  if (store.length) {
    md.push('## Event store appends (PostgreSQL adapter alone)', '', row(['case', 'appenders', 'appends/s', 'p50 ms', 'p99 ms', 'max ms', 'errors']), row(Array<string>(7).fill('---')));
    md.push(...store.map((s) => row([s.name, s.concurrency, s.appendsPerSecond, s.latencyMs.p50, s.latencyMs.p99, s.latencyMs.max, s.errors])), '');
  }
  for (const [i, floor] of floors.entries()) {
    const bareRun = floors.slice(0, i + 1).filter((f) => f.variants.length === 0).length;
    md.push(
      floor.variants.length === 0
        ? `## Floor: the bare pipeline, one hot room${bareRun > 1 ? ` (run ${bareRun})` : ''}`
        : `## Floor + ${floor.variants.join(' + ')}, one hot room`,
      '',
    );
    if (i > 0) {
      md.push(...wsTable(floor.steps), '', ...(floor.http ? ['HTTP on this floor:', '', ...httpTable(floor.http), ''] : []), ...floor.notes.map((n) => `- floor: ${n}`), '');
      continue;
    }
    md.push(
      'The least the fixed design does per message, without any of the platform\'s code (./src/command-path/floor-chat.ts): a uWebSockets.js edge ' +
        'batching a room\'s sends per event-loop turn into one NATS request → one process appending each batch in ONE transaction (prepared ' +
        'statements, compare-and-set of the stream revision) and publishing the events to JetStream → a projector applying each delivered batch ' +
        'in ONE transaction with one ack (AckAll); the edge fans out from a core subscription. No validation, authentication, idempotency, ' +
        'moderation, webhooks or analytics. Same load as the WebSocket phases (senders, viewers, pacing, rates). Columns: realtime = the ' +
        'floor\'s edge, command-api = its command process, query-api = its projector. The sections after it add, one at a time and ' +
        'cumulatively, the platform costs of `--floor-variants` (FloorVariant in floor-chat.ts: the platform\'s secondary indexes, ' +
        'idempotency records, per-message JetStream acks with a second consumer). `--floor-runs N` repeats the bare floor N times.',
      '',
      ...wsTable(floor.steps),
      '',
      ...(floor.http ? [
        'HTTP on the bare floor: `POST /channels/<room>/chat/messages` on node:http with an HS256 bearer check (jsonwebtoken, as command-api), appended through the same room queue, 201 after the commit; autocannon as in the HTTP phase.',
        '',
        ...httpTable(floor.http),
        '',
      ] : []),
      ...floor.notes.map((n) => `- floor: ${n}`),
      '',
    );
  }
  if (platform) {
    if (platform.ws.length) md.push('## WebSocket, one hot room', '', ...wsTable(platform.ws), '');
    if (platform.wsManyRooms.length) md.push(`## WebSocket, ${a['many-rooms']} rooms`, '', ...wsTable(platform.wsManyRooms), '');
    if (platform.http) {
      const h = platform.http;
      md.push('## HTTP, one hot room (autocannon)', '', ...httpTable(h), '');
    }
    if (platform.fanout) {
      const f = platform.fanout;
      md.push(
        `## Fan-out across ${f.edges} edges (${f.viewersPerEdge} viewers each, ${f.rate} msgs/s offered into the hot room)`,
        '',
        `${f.acked ?? f.sent} of ${f.sent} sends acked (the rest refused by the edge's admission limit); delivered = frames received ÷ (acked sends × viewers on the edge).`,
        '',
        row(['edge', 'delivered', 'p50 ms', 'p99 ms', 'max ms']),
        row(Array<string>(5).fill('---')),
      );
      md.push(...f.perEdge.map((p) => row([p.edge, `${(p.deliveredShare * 100).toFixed(2)} %`, p.latencyMs.p50, p.latencyMs.p99, p.latencyMs.max])));
      md.push('', `CPU (cores): ${JSON.stringify(f.cpuCores).replace(/"/g, '')}; machine ${f.machineBusyPercent} % busy.`, '');
    }
    if (prof.md.length) md.push('## CPU profiles (`--cpu-prof`, whole run)', '', ...prof.md);
    if (platform.notes.length) md.push('## Notes', '', ...platform.notes.map((n) => `- ${n}`), '');
  }
  if (floorFailures.length) md.push('## Floor runs that failed', '', ...floorFailures.map((n) => `- ${n}`), '');
  const file = join(ROOT, 'bench/results', out);
  writeFileSync(`${file}.md`, `${md.join('\n')}\n`);
  writeFileSync(`${file}.json`, `${JSON.stringify({ started, machine, quiet, version, options: a, store, floors, platform, profiles: prof.summaries }, null, 2)}\n`);
  log(`results: ${file}.md`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(1);
  },
);
