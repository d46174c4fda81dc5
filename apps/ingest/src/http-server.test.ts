/** HLS HTTP server on a temp MEDIA_DIR: routing, content types, caching, CORS, HEAD, traversal and 404s. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@eventcast/platform';
import { createHlsHttpServer, parseHlsPath } from './http-server.js';
import { rawRequest } from './test-support/harness.js';

void describe('HLS HTTP server', () => {
  let dir: string;
  let port: number;
  let ready = false;
  const server = () => srv;
  let srv: ReturnType<typeof createHlsHttpServer>;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ingest-http-'));
    await mkdir(path.join(dir, 'alice'));
    await writeFile(path.join(dir, 'alice', 'index.m3u8'), '#EXTM3U\n');
    await writeFile(path.join(dir, 'alice', 'seg1.ts'), Buffer.alloc(376, 0x47));
    await writeFile(path.join(dir, 'alice', 'init.mp4'), 'x');
    await writeFile(path.join(dir, 'alice', 'seg2.ts.tmp'), 'partial');
    await writeFile(path.join(dir, 'secret.txt'), 'secret');
    srv = createHlsHttpServer({ mediaDir: dir, isReady: () => ready, log: createLogger('ingest-test') });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    port = (server().address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => srv.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  void it('serves playlists and segments with their types, caching and CORS', async () => {
    const pl = await rawRequest(port, '/hls/alice/index.m3u8');
    assert.equal(pl.status, 200);
    assert.equal(pl.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(pl.headers['cache-control'], 'no-cache, no-store');
    assert.equal(pl.headers['access-control-allow-origin'], '*');
    assert.equal(pl.body.toString(), '#EXTM3U\n');
    const ts = await rawRequest(port, '/hls/alice/seg1.ts?x=1');
    assert.equal(ts.headers['content-type'], 'video/mp2t');
    assert.equal(ts.headers['cache-control'], 'public, max-age=60, immutable');
    assert.equal(ts.body.length, 376);
    assert.equal((await rawRequest(port, '/hls/alice/init.mp4')).headers['content-type'], 'video/mp4');
    const head = await rawRequest(port, '/hls/alice/seg1.ts', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '376');
    assert.equal(head.body.length, 0);
  });

  void it('answers CORS preflight', async () => {
    const r = await rawRequest(port, '/hls/alice/index.m3u8', 'OPTIONS', { Origin: 'http://x', 'Access-Control-Request-Method': 'GET' });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.match(String(r.headers['access-control-allow-methods']), /GET/);
  });

  void it('(c) rejects path traversal with 400 and missing files with 404', async () => {
    for (const p of ['/hls/../secret.txt', '/hls/alice/../../secret.txt', '/hls/%2e%2e/secret.txt', '/hls/alice/..%2f..%2fsecret.txt', '/hls/alice/%2e%2e%5csecret.txt', '/hls/alice/%E0%A4%A', '/hls/alice\\..\\secret.txt']) {
      assert.equal((await rawRequest(port, p)).status, 400, p);
    }
    for (const p of ['/hls/bob/index.m3u8', '/hls/alice/seg9.ts', '/hls/alice/seg2.ts.tmp', '/hls/alice/index.m3u8/x', '/secret.txt', '/hls/alice/.hidden.ts', '/hls/Alice/index.m3u8']) {
      assert.equal((await rawRequest(port, p)).status, 404, p);
    }
    assert.equal((await rawRequest(port, '/hls/alice/index.m3u8', 'POST')).status, 405);
  });

  void it('health is always ok, ready follows the probe', async () => {
    assert.equal((await rawRequest(port, '/health')).status, 200);
    assert.equal((await rawRequest(port, '/ready')).status, 503);
    ready = true;
    assert.equal((await rawRequest(port, '/ready')).status, 200);
  });

  void it('parses routes without normalising', () => {
    assert.deepEqual(parseHlsPath('/hls/alice/index.m3u8'), { kind: 'file', username: 'alice', file: 'index.m3u8', ext: '.m3u8' });
    assert.equal(parseHlsPath('/hls/./alice/index.m3u8').kind, 'bad');
  });
});
