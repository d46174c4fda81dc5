/**
 * Test helper: a private NATS server with JetStream (the `nats-server` binary on a free port, data in a temp dir),
 * so these tests never exchange requests with other processes on the shared server. Falls back to `TEST_NATS_URL`
 * (default nats://127.0.0.1:4222) when the binary is missing.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A NATS server for one test file. */
export interface TestNats {
  url: string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts `nats-server -js` and resolves once it accepts clients (10 s timeout). */
export async function startTestNats(): Promise<TestNats> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'command-api-nats-'));
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    let log = '';
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  if (!started) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    return { url: process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222', stop: () => Promise.resolve() };
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
