/**
 * Assembles the ingest node: RTMP (node-media-server), publish gate, channel manager, HLS HTTP server and the
 * command-side client; announces the node (`ingest.node-started`) and shuts everything down in order.
 */
import { readFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createSecureContext } from 'node:tls';
import { setTimeout as delay } from 'node:timers/promises';
import path from 'node:path';
import { LocalDiskStorage } from '@eventcast/media-storage';
import { natsConnectionOptions, registerAppMetrics, type Logger } from '@eventcast/platform';
import { ChannelManager } from './channels.js';
import { NatsCommandClient, routeNestLogsTo, type CommandClient } from './command-client.js';
import type { IngestConfig } from './config.js';
import { HealthSampler } from './health-sampler.js';
import { InputCheck } from './input-check.js';
import { createLiveOrigin } from './live/origin.js';
import { PeerOrigins } from './live/peer-origin.js';
import { Recorder } from './live/recorder.js';
import { LiveMediaStore, advertisedPartTarget } from './live/store.js';
import { Thumbnailer } from './live/thumbnailer.js';
import { removeStaleHlsDirs } from './media-dir.js';
import { reportLiveChannels } from './metrics.js';
import { createNms } from './nms.js';
import { PublishGate } from './publish-gate.js';
import { Restreamer } from './restream.js';
import { RtmpGuard } from './rtmp-guard.js';
import { errorMessage } from './util.js';

/** A running ingest node. */
export interface IngestNode {
  /** Graceful stop (idempotent): refuse publishes, end broadcasts, stop ffmpeg, close RTMP, NATS and HTTP. */
  stop(): Promise<void>;
  /** The in-memory live media store the origin serves (the packager's `LiveMediaSink`). */
  store: LiveMediaStore;
}

/**
 * Retries `ingest.node-started` (1 s, 2 s, … ≤ 5 s apart) until the command side answers or `signal` aborts.
 * @returns true once acknowledged.
 */
async function announce(commands: CommandClient, ingestId: string, log: Logger, signal: AbortSignal): Promise<boolean> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const r = await commands.nodeStarted({ ingestId });
      log.info({ ingestId, endedBroadcasts: r.ended }, 'node registered with the command side');
      return true;
    } catch (err: unknown) {
      if (signal.aborted) break;
      log.warn({ ingestId, attempt, err: errorMessage(err) }, 'command side did not acknowledge node start; retrying');
      await delay(Math.min(5000, 1000 * 2 ** attempt), undefined, { signal }).catch(() => undefined);
    }
  }
  return false;
}

function listenTcp(server: TcpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Starts the node. Removes stale HLS directories first; the RTMP and HTTP ports are bound before it resolves, while
 * readiness (publishes accepted, `/ready` = 200) follows the command side's answer to `ingest.node-started`.
 * @throws {Error} when a port cannot be bound.
 */
export async function startIngest(cfg: IngestConfig, log: Logger): Promise<IngestNode> {
  routeNestLogsTo(log);
  const removed = await removeStaleHlsDirs(cfg.mediaDirAbs);
  if (removed.length > 0) log.info({ count: removed.length }, 'removed stale HLS directories');

  const commands = new NatsCommandClient(natsConnectionOptions(cfg, 'ingest'), cfg.commandTimeoutMs, cfg.commandSubjectPrefix);
  // The live media store: the packagers' LiveMediaSink, the origin's source (./live/store.ts, docs/hls.md).
  const store = new LiveMediaStore({ segmentSeconds: cfg.HLS_SEGMENT_SECONDS, partTargetSeconds: advertisedPartTarget(cfg.partSeconds) });
  const channels = new ChannelManager(cfg, commands, log, store);
  // Restream / simulcast (issue 10 item 7): one ffmpeg per enabled target while a broadcast is live.
  const restreamer = new Restreamer({
    ffmpegPath: cfg.FFMPEG_PATH,
    settings: cfg.restream,
    keySecret: cfg.RESTREAM_KEY_SECRET,
    allowPrivateTargets: cfg.RESTREAM_ALLOW_PRIVATE_TARGETS,
    commands,
    log,
  });
  channels.observe(restreamer);
  registerAppMetrics('ingest');
  const unreportMetrics = reportLiveChannels(channels);
  const gate = new PublishGate(cfg, commands, channels, log);
  // Stream health (issue 10 item 5): refuse inputs the packager cannot carry, sample the live ones.
  gate.inputCheck = new InputCheck({
    noVideoRefuseMs: cfg.noVideoRefuseMs,
    endChannel: (session, channelId) => {
      const ch = channels.get(channelId);
      if (ch && ch.sessionId === session.id) void channels.end(ch, 'error');
      else session.close();
    },
    record: (req) => commands.inputRefused(req),
    log,
  });
  const healthSampler = new HealthSampler({
    channels: () => channels.health(),
    send: (sample) => commands.healthSample(sample),
    intervalMs: cfg.healthSampleMs,
    log: log.child({ component: 'health-sampler' }),
  });
  // Thumbnails (issue 10 item 4): one keyframe part of each live channel decoded every INGEST_THUMBNAIL_INTERVAL_MS.
  const thumbnails = new Thumbnailer({
    source: store,
    liveChannels: () => channels.sample().map((c) => c.username),
    ffmpegPath: cfg.FFMPEG_PATH,
    intervalMs: cfg.thumbnailIntervalMs,
    warmDecoders: cfg.thumbnailWarmDecoders,
    log: log.child({ component: 'thumbnailer' }),
  });
  // Recordings (issue 11): every broadcast's segments to RECORDINGS_DIR, the DVR window while live, the VOD after.
  const storage = new LocalDiskStorage(path.resolve(cfg.RECORDINGS_DIR));
  const recorder = new Recorder({ store, storage, commands, thumbnails, ffmpegPath: cfg.FFMPEG_PATH, log: log.child({ component: 'recorder' }) });
  recorder.start();
  channels.observe(recorder);
  const originOptions = {
    store,
    storage,
    thumbnails,
    maxHeldPerClient: cfg.hlsMaxHeldPerClient,
    isReady: () => gate.ready && !gate.stopping,
    log,
    adminHealth: { ingestId: cfg.ingestId, jwtSecret: cfg.JWT_SECRET, admins: cfg.EVENTCAST_ADMINS, channels: () => channels.health() },
    // Channels live on the other ingest nodes are answered with their response (docs/design.md).
    peers: new PeerOrigins({ peers: cfg.peerOrigins }),
  };
  const { nms, listen } = createNms(cfg.HOST, cfg.INGEST_RTMP_PORT, log);
  gate.attach(nms);
  // Limits and publish authorization in front of NMS (./rtmp-guard.ts); the authorization's own deadline is the
  // command timeout, the guard's is a backstop a little later.
  const guard = new RtmpGuard({ limits: cfg.rtmpLimits, authorizeTimeoutMs: cfg.commandTimeoutMs + 2000, authorizer: gate, log });
  guard.install(nms);
  // RTMPS (issue 10 item 6): our own TCP listener, TLS terminated in this process so the guard sees the real client
  // address and its handshake deadline covers the TLS handshake; the decrypted socket goes to the same NMS session.
  let rtmps: TcpServer | null = null;
  if (cfg.tls) {
    const [cert, key] = await Promise.all([readFile(cfg.tls.certFile), readFile(cfg.tls.keyFile)]).catch((err: unknown) => {
      throw new Error(`cannot read the RTMPS certificate or key (INGEST_TLS_CERT_FILE / INGEST_TLS_KEY_FILE): ${errorMessage(err)}`);
    });
    rtmps = createTcpServer();
    guard.installTls(rtmps, createSecureContext({ cert, key }));
  }

  const http = await createLiveOrigin(originOptions, cfg.HOST, cfg.INGEST_HTTP_PORT);
  await listen();
  if (rtmps) await listenTcp(rtmps, cfg.INGEST_RTMPS_PORT, cfg.HOST);
  log.info(
    { rtmpPort: cfg.INGEST_RTMP_PORT, rtmpsPort: rtmps ? cfg.INGEST_RTMPS_PORT : null, httpPort: cfg.INGEST_HTTP_PORT, mediaDir: cfg.mediaDirAbs },
    'ingest listening',
  );
  healthSampler.start();
  thumbnails.start();

  const aborter = new AbortController();
  let recovered: Promise<void> = Promise.resolve();
  const announced = announce(commands, cfg.ingestId, log, aborter.signal).then((ok) => {
    if (ok && !gate.stopping) {
      gate.ready = true;
      log.info('ingest ready');
      // Recordings an earlier run left unfinished (killed before their broadcast ended) are finalized now.
      recovered = recorder.recover().then((n) => {
        if (n > 0) log.info({ count: n }, 'finalized unfinished recordings of an earlier run');
      });
    }
  });

  let stopping: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    gate.stopping = true;
    gate.ready = false;
    aborter.abort();
    log.info('ingest stopping');
    await healthSampler.stop();
    // Ends every broadcast; each channel's end finalizes and announces its recording before this resolves.
    await channels.shutdown();
    await recovered;
    recorder.stop();
    await thumbnails.stop();
    restreamer.stopAll();
    unreportMetrics();
    guard.stop();
    rtmps?.close();
    await nms.stop();
    await announced;
    await commands.close().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'NATS close failed'));
    await http.close();
    store.clear();
    log.info('ingest stopped');
  };
  return {
    stop: () => (stopping ??= stop()),
    store,
  };
}
