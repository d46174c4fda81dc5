/**
 * infra/nats: auth.conf is what the launcher's permission model renders (so the deployed bus allows exactly what the
 * quick start's does), `nats-server -t` accepts every config, and real servers started from them enforce it: the
 * single server refuses anonymous clients and wrong passwords and keeps each app to its subjects, and the three
 * cluster nodes form one cluster with a JetStream meta leader.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { NATS_APP_USERS, natsInboxPrefix, natsPasswordSecretName, type NatsAppUser } from '@eventcast/contracts';
import { daemon, freePort, read, repo, run, tempDir, waitUntil, which, type Daemon } from './support.js';

const natsServer = which('nats-server', '/usr/sbin/nats-server');
const SKIP = natsServer ? false : 'nats-server is not installed (Debian package nats-server; scripts/setup.sh installs it)';

/** Test passwords for the four app users, as the server's environment. */
const PASSWORDS: Record<string, string> = Object.fromEntries(NATS_APP_USERS.map((a) => [natsPasswordSecretName(a), `pw-${a}-${Math.random().toString(36).slice(2)}`]));
const pw = (app: NatsAppUser): string => PASSWORDS[natsPasswordSecretName(app)]!;

describe('infra/nats', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('auth.conf is what infra/nats/render.mjs renders from the launcher (node infra/nats/render.mjs to update)', async () => {
    const mod = (await import(pathToFileURL(repo('infra', 'nats', 'auth-conf.mjs')).href)) as { renderAuthConf: () => string };
    assert.equal(read('infra', 'nats', 'auth.conf'), mod.renderAuthConf());
  });

  it('nats-server -t accepts nats.conf and the three cluster nodes, and refuses a missing password', { skip: SKIP }, () => {
    const routes = { NATS_ROUTE_PASSWORD: 'r', NATS_ROUTE_1: 'nats-route://route:r@n1:6222', NATS_ROUTE_2: 'nats-route://route:r@n2:6222', NATS_ROUTE_3: 'nats-route://route:r@n3:6222' };
    for (const f of ['nats.conf', 'cluster/nats-1.conf', 'cluster/nats-2.conf', 'cluster/nats-3.conf']) {
      const r = run(natsServer!, ['-t', '-c', repo('infra', 'nats', f)], { env: { ...PASSWORDS, ...routes, NATS_STORE_DIR: '/tmp/eventcast-infra-js' } });
      assert.equal(r.status, 0, `${f}: ${r.stdout}${r.stderr}`);
    }
    const env = { ...process.env, ...PASSWORDS, NATS_STORE_DIR: '/tmp/eventcast-infra-js' } as Record<string, string>;
    delete env[natsPasswordSecretName('ingest')];
    const r = run('/usr/bin/env', ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), natsServer!, '-t', '-c', repo('infra', 'nats', 'nats.conf')]);
    assert.notEqual(r.status, 0, 'refused without NATS_PASSWORD_INGEST');
    assert.match(r.stdout + r.stderr, /NATS_PASSWORD_INGEST/);
  });

  it('a server from nats.conf authenticates every app and keeps each to its subjects', { skip: SKIP }, async () => {
    const dir = tempDir('nats');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const monitor = await freePort();
    // the config as deployed; listen and monitor addresses overridden by flags
    const server = daemon(natsServer!, ['-c', repo('infra', 'nats', 'nats.conf'), '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor)], { ...PASSWORDS, NATS_STORE_DIR: join(dir, 'js') });
    cleanup.push(() => server.stop());
    await waitUntil('nats-server healthy', async () => (await fetch(`http://127.0.0.1:${monitor}/healthz`)).ok);
    const url = `nats://127.0.0.1:${port}`;
    const as = (app: NatsAppUser, pass = pw(app)) => connect({ servers: url, user: app, pass, inboxPrefix: natsInboxPrefix(app), reconnect: false, timeout: 3000 });

    await assert.rejects(connect({ servers: url, reconnect: false, timeout: 3000 }), /Authorization Violation/i, 'anonymous is refused');
    await assert.rejects(as('ingest', 'wrong'), /Authorization Violation/i, 'a wrong password is refused');

    const conns: NatsConnection[] = [];
    for (const app of NATS_APP_USERS) conns.push(await as(app));
    cleanup.push(async () => {
      for (const c of conns) await c.close();
    });
    const [commandApi, , realtime, ingest] = conns as [NatsConnection, NatsConnection, NatsConnection, NatsConnection];

    // command-api answers ingest's request through allow_responses
    const sub = commandApi.subscribe('ingest.node-started', { callback: (_e, m) => {
        m.respond('{"ended":0}');
      },
    });
    await commandApi.flush();
    const reply = await ingest.request('ingest.node-started', '{"ingestId":"t"}', { timeout: 3000 });
    assert.equal(reply.string(), '{"ended":0}');
    sub.unsubscribe();

    // the realtime edge may not publish ingest.* or events: the server reports a permissions violation
    const violations: string[] = [];
    void (async () => {
      for await (const s of realtime.status()) if (s.type === 'error') violations.push(s.error.message);
    })();
    realtime.publish('ingest.broadcast-start', '{}');
    realtime.publish('eventcast.events.account.AccountRegistered', '{}');
    await realtime.flush();
    await waitUntil('two permission violations reported to realtime', () => Promise.resolve(violations.filter((v) => /permissions violation/i.test(v)).length >= 2), 5000);
    assert.ok(violations.some((v) => /ingest\.broadcast-start/.test(v)), violations.join('; '));
  });

  it('three nodes from cluster/nats-*.conf form one cluster with a JetStream meta leader', { skip: SKIP }, async () => {
    const dir = tempDir('nats-cluster');
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const ports = await Promise.all([0, 1, 2].map(async () => ({ client: await freePort(), route: await freePort(), monitor: await freePort() })));
    const routeEnv: Record<string, string> = { NATS_ROUTE_PASSWORD: 'route-secret' };
    ports.forEach((p, i) => (routeEnv[`NATS_ROUTE_${i + 1}`] = `nats-route://route:route-secret@127.0.0.1:${p.route}`));
    // each node's config as shipped, with its listen addresses on loopback (the shipped ones bind 0.0.0.0:6222…)
    cpSync(repo('infra', 'nats'), join(dir, 'nats'), { recursive: true });
    const servers: Daemon[] = [];
    for (const [i, p] of ports.entries()) {
      const file = join(dir, 'nats', 'cluster', `nats-${i + 1}.conf`);
      const conf = readFileSync(file, 'utf8')
        .replace('listen: 0.0.0.0:4222', `listen: 127.0.0.1:${p.client}`)
        .replace('http: 0.0.0.0:8222', `http: 127.0.0.1:${p.monitor}`)
        .replace('listen: 0.0.0.0:6222', `listen: 127.0.0.1:${p.route}`);
      assert.ok(conf.includes(`127.0.0.1:${p.route}`), 'cluster listen replaced');
      writeFileSync(file, conf);
      const s = daemon(natsServer!, ['-c', file], { ...PASSWORDS, ...routeEnv, NATS_STORE_DIR: join(dir, `js-${i + 1}`) });
      servers.push(s);
      cleanup.push(() => s.stop());
    }
    const jsz = async (monitor: number) => (await (await fetch(`http://127.0.0.1:${monitor}/jsz`)).json()) as { meta_cluster?: { leader?: string; cluster_size?: number } };
    try {
      await waitUntil(
        'every node sees 2 routes and a meta leader',
        async () => {
          for (const p of ports) {
            const routez = (await (await fetch(`http://127.0.0.1:${p.monitor}/routez`)).json()) as { num_routes: number };
            const meta = (await jsz(p.monitor)).meta_cluster;
            if (routez.num_routes < 2 || !meta?.leader) return false;
          }
          return true;
        },
        30_000,
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${servers.map((s, i) => `--- node ${i + 1}\n${s.output().slice(-1500)}`).join('\n')}`, { cause: e });
    }
    const meta = (await jsz(ports[0]!.monitor)).meta_cluster;
    assert.match(meta?.leader ?? '', /^eventcast-nats-[123]$/);
  });
});
