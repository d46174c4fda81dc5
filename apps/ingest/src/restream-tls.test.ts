/**
 * rtmps:// restream targets are verified (./restream.ts `tlsOutputArgs`): a real ffmpeg pushes to a local TLS server
 * with a self-signed certificate (npm `selfsigned`). With verification and the system CA bundle the TLS connection
 * is refused before any RTMP byte is sent; trusting that certificate (as the CA file) or turning verification off
 * lets the RTMP handshake (C0 = 3) through.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { SYSTEM_CA_FILE, tlsOutputArgs } from './restream.js';

/** Pushes one second of a tiny test pattern to `url` with `extra` output options; resolves with ffmpeg's stderr. */
function push(url: string, extra: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=5', '-t', '1',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-rw_timeout', '3000000', ...extra, '-f', 'flv', url,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', () => {
      clearTimeout(killer);
      resolve(err);
    });
  });
}

void describe('restream rtmps verification (real ffmpeg, TLS server with a self-signed certificate)', { timeout: 60_000 }, () => {
  let dir: string;
  let certFile: string;
  let server: tls.Server;
  let port: number;
  /** First application byte of each TLS connection (RTMP C0), in order. */
  const firstBytes: number[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'restream-tls-'));
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    certFile = path.join(dir, 'cert.pem');
    await writeFile(certFile, pems.cert);
    server = tls.createServer({ cert: pems.cert, key: pems.private }, (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (d: Buffer) => {
        firstBytes.push(d[0] ?? -1);
        socket.destroy(); // no RTMP server here: ffmpeg fails after the handshake started
      });
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  void it('builds the options only for rtmps:// with verification on', () => {
    assert.deepEqual(tlsOutputArgs('rtmp://a/live/k', true), []);
    assert.deepEqual(tlsOutputArgs('rtmps://a/live/k', false), []);
    assert.deepEqual(tlsOutputArgs('RTMPS://a/live/k', true, certFile), ['-tls_verify', '1', '-ca_file', certFile]);
    assert.deepEqual(tlsOutputArgs('rtmps://a/live/k', true, path.join(dir, 'missing.pem')), ['-tls_verify', '1']);
  });

  void it('refuses a self-signed target with the system CA bundle; sends RTMP once trusted or unverified', async () => {
    const url = `rtmps://localhost:${port}/live/key`;
    const refused = await push(url, tlsOutputArgs(url, true, SYSTEM_CA_FILE));
    assert.match(refused, /tls/i, refused);
    assert.deepEqual(firstBytes, [], 'no RTMP byte reached the unverified server');
    await push(url, tlsOutputArgs(url, true, certFile));
    assert.deepEqual(firstBytes, [3], 'trusted: the RTMP handshake started');
    await push(url, tlsOutputArgs(url, false));
    assert.deepEqual(firstBytes, [3, 3], 'verification off: the RTMP handshake started');
  });
});
