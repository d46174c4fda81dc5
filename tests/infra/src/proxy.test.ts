/**
 * The reverse proxies: `caddy validate` and `nginx -t` accept the shipped files, and a running Caddy and nginx
 * route every path of the platform's one origin to the right app — commands and queries with their prefix removed,
 * `/ws` upgraded to the realtime edge, HLS/VOD/clip media to the ingest (the web's `/clips/<id>` page to the web),
 * and no `/metrics` to anyone. The apps are stand-ins that answer with their name, the path they got and the
 * WebSocket upgrade they saw.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { daemon, freePort, repo, run, tempDir, waitUntil, which } from './support.js';

const caddy = which('caddy');
const nginx = which('nginx', '/usr/sbin/nginx');
const openssl = which('openssl');

/** Stand-ins of the five apps' HTTP ports: each answers `<app> <path>` (and the Upgrade header it saw). */
const APPS = ['web', 'command-api', 'query-api', 'realtime', 'ingest'] as const;
type App = (typeof APPS)[number];

async function standIns(): Promise<{ ports: Record<App, number>; close: () => Promise<void> }> {
  const servers: Server[] = [];
  const ports = {} as Record<App, number>;
  for (const app of APPS) {
    const s = createServer((req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`${app} ${req.url ?? ''}${req.headers.upgrade ? ` upgrade=${req.headers.upgrade}` : ''}`);
    });
    // a WebSocket upgrade: answer 101 with the same text in a header, then close
    s.on('upgrade', (req, socket) => {
      socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Stand-In: ${app} ${req.url ?? ''}\r\n\r\n`);
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const a = s.address();
    ports[app] = a && typeof a === 'object' ? a.port : 0;
    servers.push(s);
  }
  return { ports, close: async () => void (await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))) };
}

/** What the proxy at `base` answers for `path`: status and body, or for an upgrade the stand-in's header. */
async function get(base: string, path: string, upgrade = false): Promise<{ status: number; body: string }> {
  const u = new URL(path, base);
  const req = (u.protocol === 'https:' ? httpsRequest : request)(u, {
    method: 'GET',
    rejectUnauthorized: false,
    headers: upgrade ? { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } : {},
  });
  return new Promise((resolve, reject) => {
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: String(res.headers['x-stand-in'] ?? '') });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The routing table both proxies must implement: path → [app, path the app sees] or a refusal. */
const ROUTES: [string, App | 404, string?][] = [
  ['/', 'web', '/'],
  ['/alice', 'web', '/alice'],
  ['/clips/0b7e2c1a-8c1e-4c55-9a57-0d3c5a1f7e10', 'web', '/clips/0b7e2c1a-8c1e-4c55-9a57-0d3c5a1f7e10'],
  ['/api/command/auth/login', 'command-api', '/auth/login'],
  ['/api/command/me/stream-key', 'command-api', '/me/stream-key'],
  ['/api/query/channels/live?minPosition=5', 'query-api', '/channels/live?minPosition=5'],
  ['/channels/alice/viewers', 'realtime', '/channels/alice/viewers'],
  ['/hls/alice/index.m3u8?_HLS_msn=3&_HLS_part=1', 'ingest', '/hls/alice/index.m3u8?_HLS_msn=3&_HLS_part=1'],
  ['/hls/alice/720p-1a2b-p42.m4s', 'ingest', '/hls/alice/720p-1a2b-p42.m4s'],
  ['/hls/alice/thumbnail.jpg', 'ingest', '/hls/alice/thumbnail.jpg'],
  ['/vod/0b7e2c1a-8c1e-4c55-9a57-0d3c5a1f7e10/index.m3u8', 'ingest', '/vod/0b7e2c1a-8c1e-4c55-9a57-0d3c5a1f7e10/index.m3u8'],
  ['/clips/0b7e2c1a-8c1e-4c55-9a57-0d3c5a1f7e10.mp4', 'ingest', '/clips/0b7e2c1a-8c1e-4c55-9a57-0d3c5a1f7e10.mp4'],
  ['/-/metrics', 404],
  ['/api/command/metrics', 404],
  ['/api/query/metrics', 404],
  ['/api/query/metrics/', 404],
  ['/api/query/METRICS', 404],
  ['/api/command/Metrics/', 404],
  ['/-/metrics/', 404],
];

async function checkRoutes(base: string): Promise<void> {
  const wrong: string[] = [];
  for (const [path, app, seen] of ROUTES) {
    const r = await get(base, path);
    if (app === 404) {
      if (r.status !== 404 || /^(web|command-api|query-api|realtime|ingest) /.test(r.body)) wrong.push(`${path}: expected 404, got ${r.status} ${r.body}`);
    } else if (r.status !== 200 || r.body !== `${app} ${seen}`) wrong.push(`${path}: expected "${app} ${seen}", got ${r.status} "${r.body}"`);
  }
  const ws = await get(base, '/ws', true);
  if (ws.status !== 101 || ws.body !== 'realtime /ws') wrong.push(`/ws upgrade: expected 101 from "realtime /ws", got ${ws.status} "${ws.body}"`);
  assert.deepEqual(wrong, []);
}

describe('reverse proxies', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  describe('Caddy (infra/caddy)', { skip: caddy ? false : 'caddy is not installed (Debian package caddy; scripts/setup.sh installs it)' }, () => {
    it('caddy validate accepts Caddyfile and hls-front.Caddyfile', () => {
      for (const f of ['Caddyfile', 'hls-front.Caddyfile']) {
        const r = run(caddy!, ['validate', '--config', repo('infra', 'caddy', f), '--adapter', 'caddyfile'], { env: { EVENTCAST_DOMAIN: 'stream.example.com' } });
        assert.equal(r.status, 0, `${f}: ${r.stderr.slice(-2000)}`);
      }
    });

    it('caddy fmt finds the Caddyfile formatted', () => {
      const r = run(caddy!, ['fmt', repo('infra', 'caddy', 'Caddyfile')]);
      assert.equal(r.stdout, readFileSync(repo('infra', 'caddy', 'Caddyfile'), 'utf8'));
    });

    it('a running Caddy routes every path of the one origin to the right app', async () => {
      const apps = await standIns();
      cleanup.push(apps.close);
      const port = await freePort();
      const admin = await freePort();
      const dir = tempDir('caddy');
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      // the shipped Caddyfile; only the admin address differs (a second Caddy on this machine may hold 2019)
      const file = join(dir, 'Caddyfile');
      writeFileSync(file, readFileSync(repo('infra', 'caddy', 'Caddyfile'), 'utf8').replace('admin localhost:2019', `admin 127.0.0.1:${admin}`));
      const p = apps.ports;
      const proxy = daemon(caddy!, ['run', '--config', file, '--adapter', 'caddyfile'], {
        EVENTCAST_DOMAIN: `http://127.0.0.1:${port}`,
        WEB_UPSTREAM: `127.0.0.1:${p.web}`,
        COMMAND_API_UPSTREAM: `127.0.0.1:${p['command-api']}`,
        QUERY_API_UPSTREAM: `127.0.0.1:${p['query-api']}`,
        REALTIME_UPSTREAM: `127.0.0.1:${p.realtime}`,
        INGEST_UPSTREAM: `127.0.0.1:${p.ingest}`,
        XDG_DATA_HOME: dir,
        XDG_CONFIG_HOME: dir,
        HOME: dir,
      });
      cleanup.push(() => proxy.stop());
      const base = `http://127.0.0.1:${port}`;
      try {
        await waitUntil('caddy answers', async () => (await get(base, '/')).status === 200, 20_000);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${proxy.output().slice(-3000)}`, { cause: e });
      }
      await checkRoutes(base);
    });
  });

  describe('nginx (infra/nginx)', { skip: nginx && openssl ? false : 'nginx or openssl is not installed (Debian packages nginx, openssl; scripts/setup.sh installs nginx)' }, () => {
    /**
     * A private nginx prefix with infra/nginx installed as `eventcast/`, a throw-away certificate in place of the
     * Let's Encrypt paths and the cache under the prefix; `conf` included in http{} (listen ports rewritten).
     */
    const prefix = (conf: string, ports: Record<string, string> = {}, upstreams: Record<string, number> = {}): { dir: string; main: string } => {
      const dir = tempDir('nginx');
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      mkdirSync(join(dir, 'tls'));
      mkdirSync(join(dir, 'logs'));
      cpSync(repo('infra', 'nginx'), join(dir, 'eventcast'), { recursive: true });
      const key = join(dir, 'tls', 'privkey.pem');
      const cert = join(dir, 'tls', 'fullchain.pem');
      const r = run(openssl!, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert]);
      assert.equal(r.status, 0, r.stderr);
      for (const f of readdirSync(join(dir, 'eventcast'))) {
        const p = join(dir, 'eventcast', f);
        let text = readFileSync(p, 'utf8')
          .replaceAll('/etc/letsencrypt/live/stream.example.com/', `${dir}/tls/`)
          .replaceAll('/var/cache/nginx/eventcast-hls', join(dir, 'cache'))
          .replaceAll('root /var/www/acme;', `root ${dir}/acme;`);
        for (const [from, to] of Object.entries(ports)) text = text.replaceAll(from, to);
        for (const [name, port] of Object.entries(upstreams)) text = text.replace(new RegExp(`(upstream ${name} \\{\\s*server )127\\.0\\.0\\.1:\\d+`), `$1127.0.0.1:${port}`);
        writeFileSync(p, text);
      }
      const main = join(dir, 'nginx.conf');
      // started as root, nginx runs its workers as `nobody`, who cannot write the cache in this private directory
      const user = process.getuid?.() === 0 ? 'user root;\n' : '';
      writeFileSync(main, `${user}pid ${dir}/nginx.pid;\nerror_log stderr;\ndaemon off;\nevents {}\nhttp {\n  access_log off;\n  include eventcast/${conf};\n}\n`);
      return { dir, main };
    };

    it('nginx -t accepts eventcast.conf and eventcast-hls.conf', () => {
      for (const conf of ['eventcast.conf', 'eventcast-hls.conf']) {
        const { dir, main } = prefix(conf);
        const r = run(nginx!, ['-t', '-p', `${dir}/`, '-c', main, '-e', 'stderr']);
        assert.equal(r.status, 0, `${conf}: ${r.stderr}`);
      }
    });

    it('a running nginx routes every path of the one origin to the right app', async () => {
      const apps = await standIns();
      cleanup.push(apps.close);
      const http = await freePort();
      const https = await freePort();
      const p = apps.ports;
      const { dir, main } = prefix(
        'eventcast.conf',
        { 'listen 80;': `listen 127.0.0.1:${http};`, 'listen [::]:80;': '', 'listen 443 ssl http2;': `listen 127.0.0.1:${https} ssl http2;`, 'listen [::]:443 ssl http2;': '' },
        { eventcast_web: p.web, eventcast_command_api: p['command-api'], eventcast_query_api: p['query-api'], eventcast_realtime: p.realtime, eventcast_ingest: p.ingest },
      );
      const proxy = daemon(nginx!, ['-p', `${dir}/`, '-c', main, '-e', 'stderr']);
      cleanup.push(() => proxy.stop());
      const base = `https://127.0.0.1:${https}`;
      try {
        await waitUntil('nginx answers', async () => (await get(base, '/')).status === 200, 20_000);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${proxy.output().slice(-3000)}`, { cause: e });
      }
      const redirect = await get(`http://127.0.0.1:${http}`, '/alice');
      assert.equal(redirect.status, 301, 'plain HTTP redirects to HTTPS');
      await checkRoutes(base);
    });
  });
});
