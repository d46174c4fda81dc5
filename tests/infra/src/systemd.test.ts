/**
 * infra/systemd: `systemd-analyze verify` accepts every unit (with /opt/eventcast pointing at this checkout, so the
 * Node binary exists), and each app unit runs as its own unprivileged user with an EnvironmentFile, a restart
 * policy, the hardening options and the Node flags the launcher uses; the env examples give each app only its own
 * NATS credentials, and RESTREAM_KEY_SECRET only to command-api and the ingest.
 */
import assert from 'node:assert/strict';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { NATS_APP_USERS, natsPasswordSecretName } from '@eventcast/contracts';
import { INGEST_NODE_FLAGS } from '@eventcast/launcher';
import { parseEnvFile, read, repo, run, tempDir, which } from './support.js';

const analyze = which('systemd-analyze');
const UNITS = readdirSync(repo('infra', 'systemd')).filter((f) => f.endsWith('.service') || f.endsWith('.target'));
const APPS = ['command-api', 'query-api', 'realtime', 'ingest', 'web'] as const;

/** `Key=value` lines of a unit's [Service] section (a key may repeat). */
function serviceSection(text: string): [string, string][] {
  const body = text.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
  return body
    .split('\n')
    .map((l) => /^([A-Za-z]+)=(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]);
}

describe('infra/systemd', () => {
  const cleanup: (() => void)[] = [];
  after(() => cleanup.forEach((c) => c()));

  it('systemd-analyze verify accepts every unit', { skip: analyze ? false : 'systemd-analyze is not installed (Debian package systemd)' }, () => {
    const dir = tempDir('systemd');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    // /opt/eventcast is where the units expect the built repository: use this checkout (its node_modules/.bin/node)
    for (const u of UNITS) writeFileSync(join(dir, u), read('infra', 'systemd', u).replaceAll('/opt/eventcast/', repo()));
    const r = run(analyze!, ['verify', '--man=no', ...UNITS.map((u) => join(dir, u))]);
    // verify also reports unknown keys and bad values on stderr without failing: any line naming our units fails
    const ours = r.stderr.split('\n').filter((l) => UNITS.some((u) => l.includes(u)));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(ours, []);
  });

  for (const app of APPS) {
    it(`eventcast-${app}.service: own user, env files, restart, hardening, the launcher's Node flags`, () => {
      const kv = serviceSection(read('infra', 'systemd', `eventcast-${app}.service`));
      const get = (k: string) => kv.filter(([key]) => key === k).map(([, v]) => v);
      assert.deepEqual(get('User'), ['eventcast']);
      assert.ok(get('EnvironmentFile').includes(`/etc/eventcast/${app === 'web' ? 'web' : app}.env`), 'its own env file');
      if (app === 'web') assert.deepEqual(get('EnvironmentFile'), ['/etc/eventcast/web.env'], 'the web reads no shared secret');
      assert.equal(get('Restart')[0], 'always');
      for (const [k, v] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes'], ['CapabilityBoundingSet', '']] as const)
        assert.deepEqual(get(k), [v], `${k}=${v}`);
      assert.equal(get('MemoryDenyWriteExecute').length, 0, "V8's JIT needs W+X memory");
      const exec = get('ExecStart')[0] ?? '';
      assert.match(exec, /^\/opt\/eventcast\/node_modules\/\.bin\/node /, 'Node 22 of the repository');
      const flags = app === 'ingest' ? INGEST_NODE_FLAGS : [];
      assert.equal(exec, `/opt/eventcast/node_modules/.bin/node ${[...flags, app === 'web' ? 'build' : 'dist/main.js'].join(' ')}`);
    });
  }

  it('the env examples give each app only its own NATS password and RESTREAM_KEY_SECRET only to command-api and ingest', () => {
    const env = (f: string) => parseEnvFile(read('infra', 'systemd', 'env', `${f}.env.example`));
    const nats = env('nats');
    for (const app of NATS_APP_USERS) {
      assert.ok(nats.has(natsPasswordSecretName(app)), `nats.env has ${natsPasswordSecretName(app)}`);
      const own = env(app);
      assert.equal(own.get('NATS_USER'), app);
      assert.ok(own.has('NATS_PASSWORD'));
      assert.equal(own.has('RESTREAM_KEY_SECRET'), app === 'command-api' || app === 'ingest', `${app}: RESTREAM_KEY_SECRET`);
    }
    const shared = env('eventcast');
    for (const k of ['NATS_USER', 'NATS_PASSWORD', 'RESTREAM_KEY_SECRET', ...NATS_APP_USERS.map(natsPasswordSecretName)]) assert.ok(!shared.has(k), `eventcast.env must not hold ${k}`);
    const web = env('web');
    for (const k of ['JWT_SECRET', 'STREAM_KEY_SECRET', 'DATABASE_URL', 'NATS_PASSWORD']) assert.ok(!web.has(k), `web.env must not hold ${k}`);
    // the NATS server's store directory comes from the unit (nats.conf reads NATS_STORE_DIR)
    assert.match(read('infra', 'systemd', 'eventcast-nats.service'), /^Environment=NATS_STORE_DIR=\/var\/lib\/eventcast\/nats\/jetstream$/m);
  });
});
