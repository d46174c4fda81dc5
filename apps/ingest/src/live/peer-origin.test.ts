/**
 * Peer routing between ingest origins (./peer-origin.ts) against real HTTP servers: the holder's response is passed
 * on, 404 everywhere gives null, the holder is remembered, and forwarded requests carry the header that stops loops.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FORWARDED_HEADER, parsePeerOrigins, PeerOrigins } from './peer-origin.js';

/** An HTTP server holding `channels`; counts requests and records the forwarded header. */
async function fakeOrigin(channels: string[]): Promise<{ url: string; server: Server; requests: { path: string; forwarded: string | undefined }[] }> {
  const requests: { path: string; forwarded: string | undefined }[] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', forwarded: req.headers[FORWARDED_HEADER] as string | undefined });
    const channel = /^\/hls\/([^/]+)\//.exec(req.url ?? '')?.[1];
    if (channel && channels.includes(channel)) {
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'max-age=1', 'x-other': 'no' });
      res.end(`#EXTM3U\n# ${channel} ${req.url}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests };
}

describe('peer origins', () => {
  let a: Awaited<ReturnType<typeof fakeOrigin>>;
  let b: Awaited<ReturnType<typeof fakeOrigin>>;
  before(async () => {
    a = await fakeOrigin(['alice']);
    b = await fakeOrigin(['bob']);
  });
  after(() => {
    a.server.close();
    b.server.close();
  });

  it('parses INGEST_PEER_ORIGINS', () => {
    assert.deepEqual(parsePeerOrigins(' http://a:8000/, https://b:8001 ,,'), ['http://a:8000', 'https://b:8001']);
    assert.deepEqual(parsePeerOrigins(undefined), []);
    assert.throws(() => parsePeerOrigins('ftp://a'), /not an http/);
    assert.throws(() => parsePeerOrigins('nope'), /not a URL/);
  });

  it("answers with the holder's response, remembers the holder, and returns null when nobody holds the channel", async () => {
    const peers = new PeerOrigins({ peers: [a.url, b.url] });
    const r = await peers.fetch('bob', '/hls/bob/index.m3u8?_HLS_msn=3', {});
    assert.ok(r);
    assert.equal(r.status, 200);
    assert.equal(r.peer, b.url);
    assert.equal(r.headers['content-type'], 'application/vnd.apple.mpegurl');
    assert.equal(r.headers['cache-control'], 'max-age=1');
    assert.equal(r.headers['x-other'], undefined, 'only the media headers are passed on');
    assert.equal(r.body.toString(), '#EXTM3U\n# bob /hls/bob/index.m3u8?_HLS_msn=3\n');
    assert.ok(b.requests.every((q) => q.forwarded === '1'), 'forwarded requests say so (no forwarding loops)');

    const before = a.requests.length;
    assert.equal((await peers.fetch('bob', '/hls/bob/0.m4s', {}))?.status, 200);
    assert.equal(a.requests.length, before, 'the remembered holder is asked alone');

    assert.equal(await peers.fetch('carol', '/hls/carol/index.m3u8', {}), null);
    assert.equal(new PeerOrigins({ peers: [] }).enabled, false);
  });
});
