/**
 * The quick start's supervision (issue 9 item 8), on real processes: the platform runs under pm2 exactly as
 * `scripts/up.sh` runs it (libs/launcher `upSupervised`), but on private ports with a private pm2 home, database,
 * NATS server and media directory.
 * - `up` on a running platform leaves every pid unchanged;
 * - under a steady chat load over the WebSocket path, `kill -9` of each app in turn: a new pid is healthy within 10 s
 *   by itself; failed sends are counted per app (0 while ingest, web or query-api is down — they are not on the chat
 *   path); every acknowledged message is in the event store exactly once;
 * - an app that is stopped (not restarting) is started again by `up`, alone;
 * - after the supervisor itself was killed, `up` replaces the processes it left behind;
 * - the CLI's `status` lists each app's state, pid, restarts and uptime, and `down` stops everything.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { Pm2Supervisor, probe, startPrivateNats, upSupervised, type PrivateNatsServer, type SupervisedPlatformOptions } from '@eventcast/launcher';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import { registerAccount, type TestAccount } from './accounts.js';
import { ChatLoad } from './chat-load.js';
import { freePlatformPorts, ROOT } from './harness.js';

const APPS = ['command-api', 'query-api', 'realtime', 'ingest', 'web'] as const;
/** Kill order: the apps off the chat path first, then the edge and the command side. */
const KILL_ORDER = ['ingest', 'web', 'query-api', 'realtime', 'command-api'] as const;
/** Apps whose death must not fail a single chat send. */
const OFF_CHAT_PATH = new Set<string>(['ingest', 'web', 'query-api']);
const BACK_WITHIN_MS = 10_000;
const CLI = join(ROOT, 'libs/launcher/dist/cli.js');

/** Runs the launcher's CLI (`up.sh`/`down.sh`/`status.sh` run the same) with `--root <root>`; resolves with its exit code. */
async function cli(root: string, ...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, ...args, '--root', root], { timeout: 120_000 });
    return { code: 0, stdout };
  } catch (e) {
    const err = e as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

async function pidsOf(sup: Pm2Supervisor): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const p of await sup.list()) out[p.name] = p.pid;
  return out;
}

describe('supervised platform (pm2)', () => {
  let db: TestDatabase;
  let nats: PrivateNatsServer;
  let work: string;
  let opts: SupervisedPlatformOptions;
  let sup: Pm2Supervisor;
  let store: EventStore;
  let health: Record<string, string>;

  before(async () => {
    db = await createTestDatabase('eventcast_sv');
    nats = await startPrivateNats();
    // Short path: pm2 puts its unix sockets in its home (sun_path is limited to 108 bytes).
    work = mkdtempSync(join(tmpdir(), 'ec-sv-'));
    const ports = await freePlatformPorts();
    health = {
      'command-api': `http://127.0.0.1:${ports.commandApi}/health`,
      'query-api': `http://127.0.0.1:${ports.queryApi}/health`,
      realtime: `http://127.0.0.1:${ports.realtime}/health`,
      ingest: `http://127.0.0.1:${ports.hls}/health`,
      web: `http://127.0.0.1:${ports.web}/`,
    };
    opts = {
      rootDir: ROOT,
      env: {
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        MEDIA_DIR: join(work, 'media'),
        JWT_SECRET: randomBytes(32).toString('hex'),
        STREAM_KEY_SECRET: randomBytes(32).toString('hex'),
        // The senders reconnect from 127.0.0.1 after the edge is killed.
        REALTIME_CONNECTIONS_PER_IP_PER_10S: '1000',
        LOG_LEVEL: 'info',
      },
      ports,
      logDir: join(work, 'logs'),
      publicHost: '127.0.0.1',
      // Where the CLI (`--root <work>`) looks for the quick start's pm2 home.
      pm2Home: join(work, '.eventcast', 'pm2'),
    };
    sup = new Pm2Supervisor(opts.pm2Home);
    store = await createEventStore(loadConfig({ DATABASE_URL: db.url }));
  });

  after(async () => {
    await sup?.kill().catch((e: unknown) => process.stderr.write(`pm2 kill: ${String(e)}\n`));
    await store?.close();
    await nats?.dispose();
    await db?.drop();
    if (work && !process.env['E2E_KEEP_LOGS']) rmSync(work, { recursive: true, force: true });
    else if (work) process.stderr.write(`supervisor test logs kept in ${work}/logs\n`);
  });

  test('up starts all five apps; up again on the running platform leaves every pid unchanged', async () => {
    const first = await upSupervised(opts);
    assert.deepEqual([...first.started].sort(), [...APPS].sort());
    assert.deepEqual(first.kept, []);
    const again = await upSupervised(opts);
    assert.deepEqual(again.started, []);
    assert.deepEqual([...again.kept].sort(), [...APPS].sort());
    assert.deepEqual(again.pids, first.pids);
    for (const p of await sup.list()) {
      assert.equal(p.state, 'online', p.name);
      assert.equal(p.restarts, 0, p.name);
    }
    // The apps' environment (secrets) is not left on disk, and pm2's home is private.
    assert.deepEqual(readdirSync(opts.pm2Home).filter((f) => f.includes('ecosystem')), []);
    assert.equal(statSync(opts.pm2Home).mode & 0o777, 0o700);
  });

  test('kill -9 of each app under chat load: back and healthy within 10 s by itself, no acknowledged message lost or doubled', async () => {
    const urls = (await upSupervised(opts)).urls;
    const owner = await registerAccount(urls.commandApi, `svowner${randomBytes(3).toString('hex')}`);
    const senders: TestAccount[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await registerAccount(urls.commandApi, `svsender${i}${randomBytes(3).toString('hex')}`);
      // Moderators skip the chat room's rate limit and slow mode (docs/chat.md rule 3): the load is not throttled.
      const res = await fetch(`${urls.commandApi}/channels/${owner.username}/chat/moderators/${s.username}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${owner.token}` },
      });
      assert.equal(res.status, 200, await res.text());
      senders.push(s);
    }
    const load = new ChatLoad({ edgeUrl: urls.realtime, channel: owner.username, senders });
    const report: string[] = [];
    try {
      const steady = async (what: string) => {
        const deadline = Date.now() + 20_000;
        while (!load.healthy(1500)) {
          if (Date.now() > deadline) assert.fail(`chat load not steady ${what}: last attempts ${JSON.stringify(load.attempts.slice(-6))}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      await steady('before the first kill');
      for (const app of KILL_ORDER) {
        const before = await pidsOf(sup);
        const oldPid = before[app];
        assert.ok(oldPid, `${app} has a pid`);
        load.phase = app;
        await load.settled();
        const killedAt = Date.now();
        process.kill(oldPid, 'SIGKILL');
        // Back by itself: the app answers its health check (probed every 100 ms) from a new pid (asked of pm2 once
        // healthy, since each question costs a Node process; the time counted is the first healthy answer's).
        let newPid: number | null = null;
        let backMs = -1;
        while (Date.now() - killedAt < BACK_WITHIN_MS + 20_000) {
          if (await probe({ http: health[app]! })) {
            const healthyAt = Date.now();
            newPid = (await pidsOf(sup))[app] ?? null;
            if (newPid && newPid !== oldPid) {
              backMs = healthyAt - killedAt;
              break;
            }
          }
          newPid = null;
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(newPid, `${app} did not come back within ${Date.now() - killedAt} ms`);
        // Nobody else was restarted.
        const afterKill = await pidsOf(sup);
        for (const other of APPS) if (other !== app) assert.equal(afterKill[other], before[other], `${other} kept its pid while ${app} restarted`);
        await steady(`after ${app} came back`);
        const failed = load.failed(app);
        const byOutcome: Record<string, number> = {};
        for (const f of failed) byOutcome[f.code ?? f.outcome] = (byOutcome[f.code ?? f.outcome] ?? 0) + 1;
        const sent = load.attempts.filter((a) => a.phase === app).length;
        report.push(`${app.padEnd(11)} back in ${String(backMs).padStart(5)} ms; ${failed.length}/${sent} sends failed ${JSON.stringify(byOutcome)}`);
        assert.ok(backMs <= BACK_WITHIN_MS, `${app} took ${backMs} ms to be healthy again (limit ${BACK_WITHIN_MS})`);
      }
    } finally {
      await load.stop();
      process.stderr.write(`kill -9 under chat load (${senders.length} senders, 4 sends/s each):\n  ${report.join('\n  ')}\n`);
    }
    for (const app of KILL_ORDER) {
      if (OFF_CHAT_PATH.has(app)) assert.deepEqual(load.failed(app), [], `no send fails while ${app} (not on the chat path) is down`);
    }
    // Every acknowledged message is in the store exactly once.
    const acked = load.acked();
    // steady() already proved chat worked after each recovery; this only guards against a load that never ran (the
    // total depends on how fast the apps come back: about 90 acks when each is back within 1.5 s).
    assert.ok(acked.length > 40, `a steady load was acknowledged (${acked.length})`);
    const events = (await store.readStream(`chat-${owner.id}`)).filter((e) => e.type === 'ChatMessageSent');
    const count = new Map<string, number>();
    for (const e of events) {
      const id = String((e.data as { messageId?: unknown }).messageId);
      count.set(id, (count.get(id) ?? 0) + 1);
    }
    const lost = acked.filter((a) => !count.has(a.messageId!));
    const doubled = acked.filter((a) => (count.get(a.messageId!) ?? 0) > 1);
    assert.deepEqual(lost, [], 'acknowledged messages missing from the event store');
    assert.deepEqual(doubled, [], 'acknowledged messages stored more than once');
    const texts = new Map<string, number>();
    for (const e of events) {
      const text = String((e.data as { text?: unknown }).text);
      texts.set(text, (texts.get(text) ?? 0) + 1);
    }
    assert.deepEqual([...texts].filter(([, n]) => n > 1), [], 'no text stored twice');
  });

  test('apps that are stopped or gone from the supervisor (not restarting) are started by up, alone', async () => {
    const before = await pidsOf(sup);
    await sup.pm2(['stop', 'web']);
    await sup.delete(['ingest']);
    const listed = await sup.list();
    assert.equal(listed.find((p) => p.name === 'web')?.state, 'stopped');
    assert.equal(listed.find((p) => p.name === 'ingest'), undefined);
    const up = await upSupervised(opts);
    assert.deepEqual([...up.started].sort(), ['ingest', 'web']);
    const after = await pidsOf(sup);
    for (const app of APPS) {
      if (app === 'web' || app === 'ingest') assert.ok(after[app] && after[app] !== before[app], `${app} runs with a new pid`);
      else assert.equal(after[app], before[app], `${app} kept its pid`);
    }
  });

  test('after the supervisor itself was killed, up replaces the apps it left unsupervised', async () => {
    const daemon = sup.daemonPid();
    assert.ok(daemon);
    const left = Object.values(await pidsOf(sup)).filter((p): p is number => p !== null);
    process.kill(daemon, 'SIGKILL');
    while (sup.daemonPid() !== null) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      sup.orphans().map((o) => o.pid).sort(),
      [...left].sort(),
      'the apps outlive the daemon and are found as its orphans',
    );
    const up = await upSupervised(opts);
    assert.deepEqual([...up.started].sort(), [...APPS].sort());
    for (const pid of left) assert.throws(() => process.kill(pid, 0), `old pid ${pid} is gone`);
    for (const p of await sup.list()) assert.equal(p.state, 'online', p.name);
  });

  test('status (CLI) shows each app with state, pid, restarts and uptime; down (CLI) stops every app and the supervisor', async () => {
    const json = await cli(work, 'status', '--json');
    assert.equal(json.code, 0, json.stdout);
    const rows = JSON.parse(json.stdout) as { name: string; state: string; pid: number | null; restarts: number; uptimeMs: number | null }[];
    assert.deepEqual(rows.map((r) => r.name), [...APPS]);
    const pids = await pidsOf(sup);
    for (const r of rows) {
      assert.equal(r.state, 'online', r.name);
      assert.equal(r.pid, pids[r.name], r.name);
      assert.equal(typeof r.restarts, 'number');
      assert.ok(typeof r.uptimeMs === 'number' && r.uptimeMs >= 0, `${r.name} uptime`);
    }
    const table = await cli(work, 'status');
    assert.equal(table.code, 0, table.stdout);
    assert.match(table.stdout, /^APP +STATE +PID +RESTARTS +UPTIME +MEMORY/);
    for (const r of rows) assert.match(table.stdout, new RegExp(`^${r.name} +online +${r.pid} `, 'm'));
    assert.doesNotMatch(table.stdout, new RegExp(opts.env['JWT_SECRET']!), 'no secret in the status output');

    const down = await cli(work, 'down');
    assert.equal(down.code, 0, down.stdout);
    assert.equal(sup.daemonPid(), null, 'the pm2 daemon is stopped');
    for (const pid of Object.values(pids)) if (pid) assert.throws(() => process.kill(pid, 0), `pid ${pid} is gone`);
    const after = await cli(work, 'status');
    assert.equal(after.code, 3, after.stdout);
    assert.match(after.stdout, /^command-api +missing/m);
  });
});
