/**
 * The launcher's process helpers on real processes: a zombie counts as gone (terminate() does not wait for a reap
 * that never comes), a process that ignores SIGTERM is killed, a pid is ours only when /proc says so.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { describe, it } from 'node:test';
import { isOwnProcess, isRunning, terminate } from './proc.js';

describe('process helpers', () => {
  it('terminate() counts a zombie (never reaped by its parent) as gone', async () => {
    // sh starts `sleep 60` in the background, prints its pid and becomes `sleep 120`, which never reaps it: once
    // killed, the inner sleep stays a zombie for as long as its parent lives.
    const parent = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 120'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [chunk] = (await once(parent.stdout, 'data')) as [Buffer];
    const inner = Number(chunk.toString().trim());
    try {
      assert.ok(isRunning(inner));
      const started = Date.now();
      assert.deepEqual(await terminate([inner], 2_000), []);
      assert.ok(Date.now() - started < 2_000, 'gone at SIGTERM: the zombie is not waited for');
      assert.equal(isRunning(inner), false);
      assert.doesNotThrow(() => process.kill(inner, 0), 'the zombie still exists: only its state says it is gone');
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('terminate() kills a process that ignores SIGTERM after the grace period', async () => {
    const child = spawn('sh', ['-c', "trap '' TERM; while :; do sleep 0.1; done"], { stdio: 'ignore' });
    await once(child, 'spawn');
    await new Promise((r) => setTimeout(r, 200));
    const pid = child.pid;
    assert.ok(pid);
    const started = Date.now();
    assert.deepEqual(await terminate([pid], 500), []);
    assert.ok(Date.now() - started >= 500);
  });

  it('isOwnProcess() checks the command line and working directory', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore', cwd: tmpdir() });
    await once(child, 'spawn');
    const pid = child.pid;
    assert.ok(pid);
    try {
      assert.equal(isOwnProcess(pid, { cmdlineIncludes: ['sleep', '30'] }), true);
      assert.equal(isOwnProcess(pid, { cmdlineIncludes: ['nats-server'] }), false);
      assert.equal(isOwnProcess(pid, { cwdUnder: tmpdir() }), true);
      assert.equal(isOwnProcess(pid, { cwdUnder: '/usr' }), false);
      assert.equal(isOwnProcess(Number.NaN, {}), false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
