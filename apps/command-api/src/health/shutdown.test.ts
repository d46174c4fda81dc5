import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { freePort, startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

describe('main.ts process', () => {
  let db: TestDatabase;
  let nats: PrivateNatsServer;
  before(async () => {
    db = await createTestDatabase('command_api_test');
    nats = await startPrivateNats();
  });
  after(async () => {
    await nats.dispose();
    await db.drop();
  });

  it('starts from the environment, becomes ready, and exits 0 on SIGTERM after stopping publisher, store and Redis', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, DATABASE_URL: db.url, NATS_URL: nats.url, COMMAND_API_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status, () => 0);
        if (status !== 200) await sleep(100);
      }
      assert.equal(status, 200, out);
      // Let the publisher finish starting: EventPublisher.stop() right after start() currently hangs (reported).
      await sleep(300);
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'timeout' as const)]);
      assert.notEqual(code, 'timeout', out);
      assert.equal(code, 0, out);
      const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string; component?: string; time: string });
      assert.ok(lines.some((l) => l.msg === 'command-api listening'));
      // Lines can reach the pipe out of order: compare their timestamps, not their order.
      const stopped = lines.filter((l) => l.msg === 'stopped').sort((a, b) => a.time.localeCompare(b.time));
      assert.deepEqual(stopped.map((l) => l.component).sort(), ['event-publisher', 'event-store', 'redis'], out);
      assert.ok(stopped.find((l) => l.component === 'event-publisher')!.time <= stopped.find((l) => l.component === 'event-store')!.time);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
