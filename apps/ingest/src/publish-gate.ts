/**
 * Decides every RTMP publish (ARCHITECTURE.md: "it asks the command side whether the key may publish (reject
 * otherwise)"; invariant 5: a refused RTMP publish for bad input) and forwards accepted ones to the
 * {@link ChannelManager}.
 *
 * The RTMP guard (./rtmp-guard.ts) holds the client's `publish` command until {@link PublishGate.authorize} has
 * answered, so node-media-server only ever sees authorized publishes, and a refused encoder gets an `onStatus` error
 * naming the reason (@eventcast/contracts `rtmpRefusalStatus`) instead of a bare "End of file".
 *
 * Rules:
 * - app other than `live` → `unknown_app`; node not ready (node-started not yet acknowledged) → `not_ready`;
 *   shutting down → `shutting_down`; a stream name node-media-server would not accept (outside `[A-Za-z0-9_-]`, or
 *   longer than {@link MAX_STREAM_NAME_LENGTH}) → `malformed_key` without asking the command side.
 * - The stream key is parsed (`parseStreamKey`, malformed → channelId null) and only its SHA-256 hash travels, in
 *   `ingest.authorize-publish`; the key is never logged.
 * - No reply within INGEST_COMMAND_TIMEOUT_MS, NATS down, or a malformed reply → `command_side_unavailable` (fail
 *   closed). The command side's own reasons (`malformed_key`, `unknown_channel`, `invalid_key`, `already_live`) are
 *   passed on as they are.
 * - `already_live` for a channel this node holds in its grace period with the same key hash → accepted as a resume.
 * - RTMP playback is internal only: the guard refuses `play` from other addresses than loopback/HOST
 *   ({@link PublishGate.isInternalAddress}); `prePlay` re-checks it.
 */
import { ingestRefusalReasonSchema, type IngestRefusalReason } from '@eventcast/contracts';
import { hashStreamKey, parseStreamKey, type Logger } from '@eventcast/platform';
import type { ChannelManager } from './channels.js';
import type { AuthorizePublishReply, CommandClient } from './command-client.js';
import type { IngestConfig } from './config.js';
import type { InputCheck } from './input-check.js';
import { USERNAME_RE } from './media-dir.js';
import type { NmsServer, NmsSession } from './nms.js';
import { addressOf, errorMessage } from './util.js';

/** Longest stream name (stream key) passed to the command side; ours are 80 characters. */
export const MAX_STREAM_NAME_LENGTH = 256;
/** Stream names node-media-server 4.4 accepts (`SAFE_NAME_PATTERN` in its rtmp_session.js). */
const SAFE_NAME = /^[a-zA-Z0-9_-]+$/;

/** What the client asked for in its RTMP `connect` (app) and `publish` (stream name without `?query`). */
export interface PublishRequest {
  app: string;
  name: string;
}

/** The gate's answer to a publish request. `key` is the plaintext stream key: never log it. */
export type PublishVerdict =
  | { allowed: true; channelId: string; username: string; keyHash: string; key: string; log: Logger }
  | { allowed: false; reason: IngestRefusalReason };

/** What the RTMP guard needs from the gate (implemented by {@link PublishGate}). */
export interface PublishAuthorizer {
  /** Decides a publish before node-media-server sees it. Never rejects. */
  authorize(session: NmsSession, request: PublishRequest): Promise<PublishVerdict>;
  /** node-media-server accepted the publish of a session `authorize` allowed: start (or resume) the channel. */
  accepted(session: NmsSession, verdict: Extract<PublishVerdict, { allowed: true }>): void;
  /** Whether `address` (no port) is one the packager and ffprobe connect from (loopback or HOST). */
  isInternalAddress(address: string): boolean;
}

type Status = { state: 'accepted'; channelId: string } | { state: 'gone' };

/** Wires NMS events and the guard's publish requests to authorization and the channel lifecycle. */
export class PublishGate implements PublishAuthorizer {
  private readonly status = new WeakMap<NmsSession, Status>();
  private readonly internal: Set<string>;
  /** Set once `ingest.node-started` was answered; publishes are refused before. */
  ready = false;
  /** Set at shutdown; publishes are refused after. */
  stopping = false;
  /** Watches each accepted publish's media and refuses what cannot be packaged (./input-check.ts); none when null. */
  inputCheck: InputCheck | null = null;

  constructor(
    private readonly cfg: IngestConfig,
    private readonly commands: CommandClient,
    private readonly channels: ChannelManager,
    private readonly log: Logger,
  ) {
    this.internal = new Set(['127.0.0.1', '::1', cfg.HOST]);
  }

  /** Subscribes to the NMS events. */
  attach(nms: NmsServer): void {
    nms.on('prePublish', (s) => {
      s.broadcast.publishGraceMs = this.cfg.INGEST_PUBLISH_GRACE_MS;
    });
    nms.on('donePublish', (s) => this.onDonePublish(s));
    nms.on('prePlay', (s) => this.onPrePlay(s));
  }

  /** @inheritdoc */
  isInternalAddress(address: string): boolean {
    return this.internal.has(address.replace(/^::ffff:/, ''));
  }

  private onPrePlay(session: NmsSession): void {
    const addr = addressOf(session.ip);
    if (!this.isInternalAddress(addr)) {
      this.log.warn({ sessionId: session.id, remoteAddress: addr }, 'external RTMP playback refused');
      session.close();
    }
  }

  private onDonePublish(session: NmsSession): void {
    const st = this.status.get(session);
    if (st?.state !== 'accepted') return;
    this.status.set(session, { state: 'gone' });
    this.channels.unpublished(session, st.channelId);
  }

  private refuse(log: Logger, reason: IngestRefusalReason): PublishVerdict {
    log.warn({ reason }, 'publish refused');
    return { allowed: false, reason };
  }

  /** @inheritdoc */
  async authorize(session: NmsSession, request: PublishRequest): Promise<PublishVerdict> {
    const base = this.log.child({ sessionId: session.id, remoteAddress: addressOf(session.ip) });
    try {
      return await this.decide(request, addressOf(session.ip), base);
    } catch (err: unknown) {
      base.error({ err: errorMessage(err) }, 'publish decision failed');
      return this.refuse(base, 'internal_error');
    }
  }

  private async decide(request: PublishRequest, remoteAddress: string, base: Logger): Promise<PublishVerdict> {
    let log = base;
    if (this.stopping) return this.refuse(log, 'shutting_down');
    if (!this.ready) return this.refuse(log, 'not_ready');
    if (request.app !== 'live') return this.refuse(log, 'unknown_app');
    const key = request.name;
    if (key.length > MAX_STREAM_NAME_LENGTH || !SAFE_NAME.test(key)) return this.refuse(log, 'malformed_key');
    const channelId = parseStreamKey(key)?.channelId ?? null;
    const streamKeyHash = hashStreamKey(key);
    log = base.child({ channelId });
    let reply: AuthorizePublishReply;
    try {
      reply = await this.commands.authorizePublish({ channelId, streamKeyHash, remoteAddress });
    } catch (err: unknown) {
      log.error({ err: errorMessage(err) }, 'authorization unavailable');
      return this.refuse(log, 'command_side_unavailable');
    }
    if (this.stopping) return this.refuse(log, 'shutting_down');
    if (!reply.allowed) {
      const held = channelId ? this.channels.get(channelId) : undefined;
      if (!(reply.reason === 'already_live' && held && !held.connected && held.keyHash === streamKeyHash)) {
        const known = ingestRefusalReasonSchema.safeParse(reply.reason);
        return this.refuse(log, known.success ? known.data : 'internal_error');
      }
      reply = { allowed: true, channelId: held.channelId, username: held.username };
    }
    log = base.child({ channelId: reply.channelId, username: reply.username });
    if (!USERNAME_RE.test(reply.username)) {
      log.error('command side returned an invalid username');
      return this.refuse(log, 'internal_error');
    }
    return { allowed: true, channelId: reply.channelId, username: reply.username, keyHash: streamKeyHash, key, log };
  }

  /** @inheritdoc */
  accepted(session: NmsSession, verdict: Extract<PublishVerdict, { allowed: true }>): void {
    this.status.set(session, { state: 'accepted', channelId: verdict.channelId });
    session.socket?.once('close', () => {
      if (this.status.get(session)?.state === 'accepted') this.channels.disconnected(session);
    });
    verdict.log.info('publish accepted');
    this.channels.publish(session, verdict.channelId, verdict.username, verdict.keyHash, verdict.key, verdict.log);
    this.inputCheck?.watch(session, verdict.channelId, verdict.log);
  }
}
