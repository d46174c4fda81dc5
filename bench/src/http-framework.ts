/**
 * HTTP framework benchmark: the CPU a command's HTTP framework costs, Nest on Express against Nest on Fastify, with
 * the same route, guard, validation and CORS as command-api (./http-framework/app.ts) and no storage behind it.
 * Why command-api moved to Fastify (issue 12 item 7). Each framework runs in its own child process; autocannon sends
 * `--connections` concurrent keep-alive POSTs for `--seconds` after a 3-s warm-up; CPU = utime + stime of the server
 * from /proc over the measured window. Writes bench/results/<out>.md and .json.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import jwt from 'jsonwebtoken';
import { ROOT } from '@eventcast/e2e/harness';
import { codeVersion } from './code-version.js';
import { logger, machineInfo, quietGuard, refuseIfAnotherBenchmark } from './video/common.js';

const log = logger('http-framework');
const { values: a } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    runs: { type: 'string', default: '2' },
    out: { type: 'string', default: 'http-framework' },
  },
});
const seconds = Number(a.seconds);
const connections = Number(a.connections);
const runs = Number(a.runs);
const secret = 'http-framework-bench-secret-0123456789';

/** One measured window of one framework. */
interface Step {
  framework: 'express' | 'fastify';
  run: number;
  reqPerS: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  cpuCores: number;
  /** Server CPU per request, ms. */
  cpuMsPerRequest: number;
}

/** utime + stime of `pid`, ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(framework: Step['framework'], run: number): Promise<Step> {
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'http-framework', 'app.js'), framework], {
    env: { ...process.env, BENCH_JWT_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const first = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`${framework} server exited (${code}) before listening`)));
    });
    const { port } = JSON.parse(first) as { port: number };
    const token = jwt.sign({ sub: 'bench' }, secret, { algorithm: 'HS256' });
    const options = {
      url: `http://127.0.0.1:${port}/channels/bench/chat/messages`,
      method: 'POST' as const,
      connections,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ text: 'hello from the http-framework benchmark' }),
    };
    await autocannon({ ...options, duration: 3 });
    const c0 = cpuMs(child.pid!);
    const t0 = Date.now();
    const r = await autocannon({ ...options, duration: seconds });
    const used = cpuMs(child.pid!) - c0;
    const wall = Date.now() - t0;
    const step: Step = {
      framework,
      run,
      reqPerS: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      cpuCores: Math.round((100 * used) / wall) / 100,
      cpuMsPerRequest: Math.round((1000 * used) / Math.max(1, r.requests.total)) / 1000,
    };
    log(`${framework} run ${run}: ${step.reqPerS} req/s, p99 ${step.p99Ms} ms, ${step.cpuCores} cores, ${step.cpuMsPerRequest} CPU-ms/request, non-2xx ${step.non2xx}`);
    return step;
  } finally {
    child.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  refuseIfAnotherBenchmark();
  const quiet = await quietGuard(25, 60, false, log);
  const machine = machineInfo();
  const steps: Step[] = [];
  for (let run = 1; run <= runs; run++) for (const framework of ['express', 'fastify'] as const) steps.push(await measure(framework, run));
  const version = codeVersion(ROOT);
  const md = [
    '# HTTP framework: Nest on Express vs Nest on Fastify',
    '',
    `Run ${new Date().toISOString()} on ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; commit ${version.commit}; machine ${quiet.busyPercent} % busy before the run${quiet.quiet ? '' : ' (NOT quiet: not for the record)'}.`,
    '',
    `Command: \`node bench/dist/http-framework.js --seconds ${seconds} --connections ${connections} --runs ${runs}\`.`,
    '',
    'The same route on both (bench/src/http-framework/app.ts): `POST /channels/:username/chat/messages`, an HS256 bearer guard (jsonwebtoken), the global ValidationPipe over a class-validator DTO, CORS, a JSON reply one event-loop turn later; no storage. autocannon, keep-alive, closed loop, on loopback; CPU is the server process only.',
    '',
    '| framework | run | req/s | p50 ms | p99 ms | non-2xx | server cores | server CPU ms per request |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...steps.map((s) => `| ${s.framework} | ${s.run} | ${s.reqPerS} | ${s.p50Ms} | ${s.p99Ms} | ${s.non2xx} | ${s.cpuCores} | ${s.cpuMsPerRequest} |`),
    '',
  ].join('\n');
  writeFileSync(join(ROOT, 'bench', 'results', `${a.out}.md`), md);
  writeFileSync(join(ROOT, 'bench', 'results', `${a.out}.json`), `${JSON.stringify({ machine, quiet, version, steps }, null, 2)}\n`);
  log(`results: bench/results/${a.out}.md`);
}

await main();
