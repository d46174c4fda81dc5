/**
 * Bulk receivers in C (../../native/ws-bulk.c) behind the same request/answer interface as the Node receiver process
 * (./receivers.ts). The C clients poll instead of blocking per frame, so the loopback kernel does not charge the
 * server for waking a reader on every send (see the header of ws-bulk.c); they also cost the shared machine far less
 * CPU than 2,500 Node sockets per process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ReceiverCommand, ReceiverEvent } from './receivers.js';

const here = dirname(fileURLToPath(import.meta.url));
const SOURCE = join(here, '..', '..', 'native', 'ws-bulk.c');
const BINARY = join(here, '..', 'native', 'ws-bulk');

/**
 * Compiles ws-bulk.c with the system C compiler (`cc -O2`) when the binary is missing or older than the source.
 * @returns the binary's path.
 * @throws {Error} when no C compiler is available or the compile fails.
 */
export function nativeReceiverBinary(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(dirname(BINARY), { recursive: true });
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', BINARY, SOURCE], { stdio: 'inherit' });
  } catch (e) {
    throw new Error(`cannot compile ${SOURCE} (install a C compiler, or use --receivers node): ${(e as Error).message}`, { cause: e });
  }
  return BINARY;
}

/** One ws-bulk process; started by the `connect` request (its arguments carry the connection plan). */
export class NativeReceiverProc {
  private proc: ChildProcess | undefined;
  private readonly waiting: Array<{ ev: ReceiverEvent['ev']; resolve: (m: ReceiverEvent) => void }> = [];

  /** @param pollMs sleep between the receivers' non-blocking epoll rounds, in ms (0: block in epoll_wait). */
  constructor(private readonly pollMs: number) {}

  /** The running process (after `connect`). */
  get child(): { pid?: number | undefined } {
    return this.proc ?? {};
  }

  /** Sends `cmd` and waits for the answer of kind `ev` (rejects after `timeoutMs` or when the process exits). */
  request<E extends ReceiverEvent['ev']>(cmd: ReceiverCommand, ev: E, timeoutMs: number): Promise<Extract<ReceiverEvent, { ev: E }>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`ws-bulk: no ${ev} within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = {
        ev,
        resolve: (m: ReceiverEvent) => {
          clearTimeout(t);
          resolve(m as Extract<ReceiverEvent, { ev: E }>);
        },
      };
      this.waiting.push(w);
      if (cmd.cmd === 'connect') this.start(cmd);
      else if (cmd.cmd === 'stats') this.proc?.stdin?.write('stats\n');
    });
  }

  /** Asks the process to close its connections and exit; kills it after 5 s. */
  async close(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.stdin?.end('close\n');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  private start(cmd: Extract<ReceiverCommand, { cmd: 'connect' }>): void {
    const { target } = cmd;
    const args = [target.dialect, target.host, String(target.port), target.channel || '-', String(cmd.count), String(cmd.offset),
      String(cmd.concurrency), String(this.pollMs), '15000', '3', cmd.addresses.join(',')];
    const p = spawn(nativeReceiverBinary(), args, { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc = p;
    createInterface({ input: p.stdout }).on('line', (line) => {
      const m = parseLine(line);
      if (!m) return;
      const i = this.waiting.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m);
    });
  }
}

/** Parses one ws-bulk stdout line (`connected …` / `stats …`) into a {@link ReceiverEvent}; null for anything else. */
export function parseLine(line: string): ReceiverEvent | null {
  const [kind, ...f] = line.split(' ');
  if (kind === 'connected') {
    const errors = f.slice(2).join(' ');
    return { ev: 'connected', ready: Number(f[0]), failed: Number(f[1]), errors: errors ? errors.split('|') : [] };
  }
  if (kind === 'stats') {
    const [delivered, deliveredBytes, other, pings, closedAfterReady, open, cpu] = f.map(Number);
    return {
      ev: 'stats',
      counters: { delivered: delivered ?? 0, deliveredBytes: deliveredBytes ?? 0, other: other ?? 0, pings: pings ?? 0, closedAfterReady: closedAfterReady ?? 0 },
      cpuSeconds: cpu ?? 0,
      open: open ?? 0,
    };
  }
  return null;
}
