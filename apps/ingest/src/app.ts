/**
 * Assembles the ingest node: RTMP (node-media-server), publish gate, channel manager, HLS HTTP server and the
 * command-side client; announces the node (`ingest.node-started`) and shuts everything down in order.
 */
import type { Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { natsConnectionOptions, registerAppMetrics, type Logger } from '@eventcast/platform';
import { ChannelManager } from './channels.js';
import { NatsCommandClient, routeNestLogsTo, type CommandClient } from './command-client.js';
import type { IngestConfig } from './config.js';
import { HealthSampler } from './health-sampler.js';
import { createHlsHttpServer } from './http-server.js';
import { InputCheck } from './input-check.js';
import { removeStaleHlsDirs } from './media-dir.js';
import { reportLiveChannels } from './metrics.js';
import { createNms } from './nms.js';
import { PublishGate } from './publish-gate.js';
import { RtmpGuard } from './rtmp-guard.js';
import { errorMessage } from './util.js';

/** A running ingest node. */
export interface IngestNode {
  /** Graceful stop (idempotent): refuse publishes, end broadcasts, stop ffmpeg, close RTMP, NATS and HTTP. */
  stop(): Promise<void>;
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

function listenHttp(server: Server, port: number, host: string): Promise<void> {
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
  // MERGE: replace with the live media store (./live/store.ts, branch h/origin); until then parts are dropped.
  const dropParts = { init: () => undefined, part: () => undefined };
  const channels = new ChannelManager(cfg, commands, log, { open: () => ({ rendition: () => dropParts, end: () => undefined }), close: () => undefined });
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
  const http = createHlsHttpServer({
    mediaDir: cfg.mediaDirAbs,
    isReady: () => gate.ready && !gate.stopping,
    log,
    adminHealth: { ingestId: cfg.ingestId, jwtSecret: cfg.JWT_SECRET, admins: cfg.EVENTCAST_ADMINS, channels: () => channels.health() },
  });
  const { nms, listen } = createNms(cfg.HOST, cfg.INGEST_RTMP_PORT, log);
  gate.attach(nms);
  // Limits and publish authorization in front of NMS (./rtmp-guard.ts); the authorization's own deadline is the
  // command timeout, the guard's is a backstop a little later.
  const guard = new RtmpGuard({ limits: cfg.rtmpLimits, authorizeTimeoutMs: cfg.commandTimeoutMs + 2000, authorizer: gate, log });
  guard.install(nms);

  await listenHttp(http, cfg.INGEST_HTTP_PORT, cfg.HOST);
  await listen();
  log.info({ rtmpPort: cfg.INGEST_RTMP_PORT, httpPort: cfg.INGEST_HTTP_PORT, mediaDir: cfg.mediaDirAbs }, 'ingest listening');
  healthSampler.start();

  const aborter = new AbortController();
  const announced = announce(commands, cfg.ingestId, log, aborter.signal).then((ok) => {
    if (ok && !gate.stopping) {
      gate.ready = true;
      log.info('ingest ready');
    }
  });

  let stopping: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    gate.stopping = true;
    gate.ready = false;
    aborter.abort();
    log.info('ingest stopping');
    await healthSampler.stop();
    await channels.shutdown();
    unreportMetrics();
    guard.stop();
    await nms.stop();
    await announced;
    await commands.close().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'NATS close failed'));
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeIdleConnections();
      setTimeout(() => http.closeAllConnections(), 2000).unref();
    });
    log.info('ingest stopped');
  };
  return {
    stop: () => (stopping ??= stop()),
  };
}
