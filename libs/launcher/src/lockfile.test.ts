/**
 * The lock file installs with `npm ci` (issue 9 item 13): it is in sync with every package.json of the workspace and
 * lists each platform's optional native package of nx, which `npm ci` checks for all platforms although it installs
 * only this machine's (a lock written where npm skipped them made `npm ci` fail with "Missing: @nx/nx-darwin-arm64
 * from lock file"). `npm ci --dry-run` runs npm's own sync check without touching node_modules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Lock {
  packages: Record<string, { version?: string; optionalDependencies?: Record<string, string> }>;
}

test('package-lock.json lists every optional platform package of nx', () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  const nx = lock.packages['node_modules/nx'];
  assert.ok(nx?.optionalDependencies, 'nx and its optional dependencies are in the lock');
  const missing = Object.keys(nx.optionalDependencies).filter((name) => !lock.packages[`node_modules/${name}`]);
  assert.deepEqual(missing, [], 'optional native packages of nx missing from the lock (npm ci would refuse it)');
});

test('npm ci accepts the lock file (dry run)', async () => {
  const { stdout, stderr } = await promisify(execFile)('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: ROOT,
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    assert.fail(`npm ci --dry-run refused the lock file:\n${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
  });
  assert.doesNotMatch(`${stdout}${stderr}`, /Missing: .* from lock file|can only install packages when/);
});
