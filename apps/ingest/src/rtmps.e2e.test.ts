/**
 * RTMPS ingest (issue 10 item 6) against a real ingest process: TLS terminated in the ingest (./app.ts,
 * RtmpGuard.installTls), the decrypted stream handled by the same guarded node-media-server session as plain RTMP.
 * - ffmpeg publishing to `rtmps://127.0.0.1:<port>/live/<key>` (certificate: a self-signed pair made with npm
 *   `selfsigned`, as the launcher does on first run) is authorized, broadcast and packaged (HLS segments);
 * - a wrong key over RTMPS is refused with the reason, read by ffmpeg from the onStatus ("Server error: …BadName");
 * - a TLS client that never finishes the handshake is cut at the guard's handshake deadline, and the per-address cap
 *   counts the client's own address (127.0.0.x, not the loopback the packager uses, which is exempt).
 * Plain RTMP stays available on its own port in the same run.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CommandPatterns } from '@eventcast/events';
import { generateStreamKey, parseMetrics, sampleValue } from '@eventcast/platform';
import { generate } from 'selfsigned';
import { freePort, publishTestStream, rawRequest, waitUntil } from './test-support/harness.js';
import { singleChannelHandlers, startIngestRun, testSubjectPrefix, type IngestRun } from './test-support/ingest-run.js';
import { rawConnect } from './test-support/rtmp-client.js';

const channelId = randomUUID();
const username = `s_${randomBytes(4).toString('hex')}`;
const key = generateStreamKey(channelId);
const HANDSHAKE_MS = 2000;
const PER_IP = 2;

void describe('RTMPS ingest (real TLS, ffmpeg, NMS and NATS)', { timeout: 90_000 }, () => {
  let run: IngestRun;
  let rtmpsPort = 0;

  before(async () => {
    rtmpsPort = await freePort();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' });
    let certFile = '';
    let keyFile = '';
    run = await startIngestRun({
      prefix: testSubjectPrefix(),
      handlers: singleChannelHandlers({ key, channelId, username }),
      tmpPrefix: 'ingest-rtmps-',
      prepareMediaDir: async (dir) => {
        certFile = path.join(dir, 'test.crt');
        keyFile = path.join(dir, 'test.key');
        await writeFile(certFile, pems.cert);
        await writeFile(keyFile, pems.private, { mode: 0o600 });
      },
      get env() {
        return {
          INGEST_RTMPS_PORT: String(rtmpsPort),
          INGEST_TLS_CERT_FILE: certFile,
          INGEST_TLS_KEY_FILE: keyFile,
          INGEST_RTMP_HANDSHAKE_TIMEOUT_MS: String(HANDSHAKE_MS),
          INGEST_RTMP_MAX_CONNECTIONS_PER_IP: String(PER_IP),
          INGEST_COMMAND_TIMEOUT_MS: '1500',
        };
      },
    });
  });
  after(() => run?.stop());

  const rtmps = (k: string) => `rtmps://127.0.0.1:${rtmpsPort}/live/${k}`;

  void it('accepts a publish over RTMPS and packages it; plain RTMP stays open', async () => {
    const pub = publishTestStream(rtmps(key), 6);
    const auth = await run.fake.waitFor(CommandPatterns.AuthorizePublish, (c) => c.data['channelId'] === channelId);
    assert.equal(auth.data['remoteAddress'], '127.0.0.1', 'the decrypted session carries the client address');
    const start = await run.fake.waitFor(CommandPatterns.BroadcastStart);
    assert.equal(start.data['channelId'], channelId);
    await waitUntil('HLS segments from the RTMPS publish', async () => {
      const r = await rawRequest(run.httpPort, `/hls/${username}/index.m3u8`);
      return r.status === 200 && (r.body.toString().match(/#EXTINF/g) ?? []).length >= 2 ? true : undefined;
    }, 20_000);
    assert.equal(await pub.exit, 0, pub.stderr());
    await run.fake.waitFor(CommandPatterns.BroadcastEnd);
    // Plain RTMP on its own port still answers the RTMP handshake byte (C0 = 3 → S0 = 3).
    const plain = await rawConnect(run.rtmpPort);
    const s0 = new Promise<number>((resolve) => plain.socket.once('data', (d: Buffer) => resolve(d[0] ?? -1)));
    await plain.write(Buffer.concat([Buffer.from([3]), randomBytes(1536)]));
    assert.equal(await s0, 3);
    plain.socket.destroy();
  });

  void it('refuses a wrong key over RTMPS with the reason', async () => {
    const pub = publishTestStream(rtmps(generateStreamKey(randomUUID())), 3);
    assert.notEqual(await pub.exit, 0);
    assert.match(pub.stderr(), /Server error: NetStream\.Publish\.BadName/);
  });

  void it('cuts a TLS client that never finishes the handshake at the deadline; per-address cap on the real address', async () => {
    // A TCP connection that sends nothing (no ClientHello) and one that stops in the middle of the TLS handshake
    // (a ClientHello's first bytes), both from 127.0.0.31.
    const silent = await rawConnect(rtmpsPort, '127.0.0.31');
    const partial = await rawConnect(rtmpsPort, '127.0.0.31');
    await partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    // The cap (2 per address) now refuses a third from the same address at once, while another address connects.
    const third = await rawConnect(rtmpsPort, '127.0.0.31');
    const thirdClosed = await Promise.race([third.closed, delay(1000).then(() => Infinity)]);
    assert.ok(thirdClosed < 1000, 'the third connection from one address is refused at once');
    const other = await new Promise<{ closedAfter: Promise<number> }>((resolve, reject) => {
      const t0 = Date.now();
      const tcp = netConnect({ host: '127.0.0.1', port: rtmpsPort, localAddress: '127.0.0.32' });
      const s = tlsConnect({ socket: tcp, rejectUnauthorized: false }, () =>
        resolve({ closedAfter: new Promise((r) => s.once('close', () => r(Date.now() - t0))) }),
      );
      s.once('error', reject);
    });
    for (const [what, conn] of [['silent', silent], ['partial ClientHello', partial]] as const) {
      const closedAt = await Promise.race([conn.closed, delay(HANDSHAKE_MS + 3000).then(() => Infinity)]);
      assert.ok(closedAt >= HANDSHAKE_MS - 200 && closedAt < HANDSHAKE_MS + 2000, `${what}: closed after ${closedAt} ms`);
    }
    // The client that finished TLS but sent no RTMP publish is cut by the same deadline.
    const otherClosed = await Promise.race([other.closedAfter, delay(HANDSHAKE_MS + 3000).then(() => Infinity)]);
    assert.ok(otherClosed < HANDSHAKE_MS + 2000, `TLS done, no publish: closed after ${otherClosed} ms`);
    // Bytes that are not TLS: the handshake fails at once (reason tls_error), the process lives.
    const garbage = await rawConnect(rtmpsPort, '127.0.0.33');
    await garbage.write(Buffer.concat([Buffer.from([3]), randomBytes(1536)]));
    const garbageClosed = await Promise.race([garbage.closed, delay(HANDSHAKE_MS + 3000).then(() => Infinity)]);
    assert.ok(garbageClosed < 1500, `plain RTMP bytes on the RTMPS port: closed after ${garbageClosed} ms`);
    const metrics = parseMetrics((await rawRequest(run.httpPort, '/metrics')).body.toString());
    assert.ok(sampleValue(metrics, 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'handshake_timeout' }) >= 3);
    assert.ok(sampleValue(metrics, 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'per_ip_limit' }) >= 1);
    assert.ok(sampleValue(metrics, 'eventcast_ingest_rtmp_connections_closed_total', { reason: 'tls_error' }) >= 1);
    assert.equal(run.ingest.child.exitCode, null);
  });
});
