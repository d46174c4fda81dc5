/**
 * Decides every RTMP publish (ARCHITECTURE.md: "it asks the command side whether the key may publish (reject
 * otherwise)"; invariant 5: a refused RTMP publish for bad input) and forwards accepted ones to the
 * {@link ChannelManager}.
 *
 * Rules:
 * - app other than `live` → refused; node not ready (node-started not yet acknowledged) or shutting down → refused.
 * - The stream key is parsed (`parseStreamKey`, malformed → channelId null) and only its SHA-256 hash travels, in
 *   `ingest.authorize-publish`; the key is never logged.
 * - No reply within INGEST_COMMAND_TIMEOUT_MS, NATS down, or a malformed reply → refused (fail closed).
 * - `already_live` for a channel this node holds in its grace period with the same key hash → accepted as a resume.
 * - Refusal = `session.close()`; that session's later NMS events are ignored (tracked in a WeakMap).
 * - RTMP playback is internal only: players from other addresses than loopback/HOST are closed in `prePlay`.
 */
import { hashStreamKey, parseStreamKey, type Logger } from '@eventcast/platform';
import type { ChannelManager } from './channels.js';
import type { AuthorizePublishReply, CommandClient } from './command-client.js';
import type { IngestConfig } from './config.js';
import { USERNAME_RE } from './media-dir.js';
import type { NmsServer, NmsSession } from './nms.js';
import { addressOf, errorMessage } from './util.js';

type Status = { state: 'pending' | 'rejected' | 'gone' } | { state: 'accepted'; channelId: string };

/** Wires NMS events to authorization and the channel lifecycle. */
export class PublishGate {
  private readonly status = new WeakMap<NmsSession, Status>();
  /** Set once `ingest.node-started` was answered; publishes are refused before. */
  ready = false;
  /** Set at shutdown; publishes are refused after. */
  stopping = false;

  constructor(
    private readonly cfg: IngestConfig,
    private readonly commands: CommandClient,
    private readonly channels: ChannelManager,
    private readonly log: Logger,
  ) {}

  /** Subscribes to the NMS events. */
  attach(nms: NmsServer): void {
    nms.on('prePublish', (s) => this.onPrePublish(s));
    nms.on('donePublish', (s) => this.onDonePublish(s));
    nms.on('prePlay', (s) => this.onPrePlay(s));
  }

  private onPrePlay(session: NmsSession): void {
    const addr = addressOf(session.ip).replace(/^::ffff:/, '');
    const allowed = new Set(['127.0.0.1', '::1', this.cfg.HOST]);
    if (!allowed.has(addr)) {
      this.log.warn({ sessionId: session.id, remoteAddress: addr }, 'external RTMP playback refused');
      session.close();
    }
  }

  private onPrePublish(session: NmsSession): void {
    session.broadcast.publishGraceMs = this.cfg.INGEST_PUBLISH_GRACE_MS;
    this.status.set(session, { state: 'pending' });
    session.socket?.once('close', () => {
      const st = this.status.get(session);
      if (st?.state === 'pending') this.status.set(session, { state: 'gone' });
      else if (st?.state === 'accepted') this.channels.disconnected(session);
    });
    this.decide(session).catch((err: unknown) => {
      this.log.error({ sessionId: session.id, err: errorMessage(err) }, 'publish decision failed');
      this.refuse(session, this.log, 'internal_error');
    });
  }

  private onDonePublish(session: NmsSession): void {
    const st = this.status.get(session);
    if (st?.state !== 'accepted') return;
    this.status.set(session, { state: 'gone' });
    this.channels.unpublished(session, st.channelId);
  }

  private refuse(session: NmsSession, log: Logger, reason: string): void {
    const st = this.status.get(session);
    if (st?.state !== 'gone') this.status.set(session, { state: 'rejected' });
    log.warn({ reason }, 'publish refused');
    session.close();
  }

  private async decide(session: NmsSession): Promise<void> {
    const remoteAddress = addressOf(session.ip);
    const base = this.log.child({ sessionId: session.id, remoteAddress });
    let log = base;
    if (this.stopping) return this.refuse(session, log, 'shutting_down');
    if (!this.ready) return this.refuse(session, log, 'not_ready');
    if (session.streamApp !== 'live') return this.refuse(session, log, 'unknown_app');
    const key = session.streamName;
    const channelId = parseStreamKey(key)?.channelId ?? null;
    const streamKeyHash = hashStreamKey(key);
    log = base.child({ channelId });
    let reply: AuthorizePublishReply;
    try {
      reply = await this.commands.authorizePublish({ channelId, streamKeyHash, remoteAddress });
    } catch (err: unknown) {
      log.error({ err: errorMessage(err) }, 'authorization unavailable');
      return this.refuse(session, log, 'command_side_unavailable');
    }
    if (this.status.get(session)?.state !== 'pending') {
      log.info('publisher left before the authorization answer');
      return;
    }
    if (this.stopping) return this.refuse(session, log, 'shutting_down');
    if (!reply.allowed) {
      const held = channelId ? this.channels.get(channelId) : undefined;
      if (!(reply.reason === 'already_live' && held && !held.connected && held.keyHash === streamKeyHash)) {
        return this.refuse(session, log, reply.reason);
      }
      reply = { allowed: true, channelId: held.channelId, username: held.username };
    }
    log = base.child({ channelId: reply.channelId, username: reply.username });
    if (!USERNAME_RE.test(reply.username)) {
      log.error('command side returned an invalid username');
      return this.refuse(session, log, 'invalid_username');
    }
    if (!session.isPublisher) {
      // NMS itself refused it (the stream path already has a live publisher).
      this.status.set(session, { state: 'rejected' });
      log.warn('publish refused by the media server (stream already has a publisher)');
      return;
    }
    this.status.set(session, { state: 'accepted', channelId: reply.channelId });
    log.info('publish accepted');
    this.channels.publish(session, reply.channelId, reply.username, streamKeyHash, key, log);
  }
}
