/**
 * A private nats-server (with JetStream) for tests that must not share, stop or pollute the machine's NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

/** A running private NATS server. `stop()` ends it (SIGTERM) keeping its store; `start()` runs it again on the same port and store. */
export interface PrivateNatsServer {
  url: string;
  port: number;
  storeDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes its store directory. */
  dispose(): Promise<void>;
}

/** Path of the nats-server binary: `NATS_SERVER_BIN` or Debian's `/usr/sbin/nats-server`. */
export const NATS_SERVER_BIN = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

/** Starts `nats-server -js` on a free loopback port with a fresh temporary store. */
export async function startPrivateNats(): Promise<PrivateNatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'eventcast-nats-'));
  let child: ChildProcess | null = null;
  const server: PrivateNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async start() {
      if (child) return;
      child = spawn(NATS_SERVER_BIN, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
      await waitForPort(port);
    },
    async stop() {
      const c = child;
      if (!c) return;
      child = null;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    async dispose() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
