/**
 * The ingest's restream requests over NATS (issue 10 item 7; docs/contracts.md "Restream"):
 * - `ingest.restream-targets` → the channel's enabled targets, each key unsealed from STREAM_KEY_SECRET and sealed
 *   again under RESTREAM_KEY_SECRET (the ingest holds only that key), or `{ targets: [], code, message }` on failure;
 *   a target whose key cannot be unsealed is skipped (logged by its id) and the others are returned;
 * - `ingest.restream-state` → records a target's state change (`RestreamTargetStateChanged`) of the channel's live
 *   broadcast (reports for another broadcast are ignored), with the target's stream key redacted from `reason`;
 *   `{ ok: true }`.
 * Payloads are validated with the contract schemas; failures are error replies, never thrown RPC errors.
 */
import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import { restreamStateReportSchema, restreamTargetsRequestSchema, type RestreamTargetsReply } from '@eventcast/contracts';
import { CommandPatterns, type EventMetadata } from '@eventcast/events';
import { decryptSecret, encryptSecret, type Logger } from '@eventcast/platform';
import type { CommandApiConfig } from '../core/config.js';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
import { CONFIG, LOGGER } from '../core/tokens.js';
import { parseRequest } from '../ingest/ingest.schemas.js';
import { RestreamAggregates } from './restream-aggregates.js';

const DEV_KEY = '0'.repeat(64);

/** Restream requests of apps/ingest. */
@Controller()
export class RestreamNatsController {
  constructor(
    private readonly aggregates: RestreamAggregates,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `ingest.restream-targets` `{ channelId, broadcastId }` → `{ targets: [{ targetId, name, url, keySealed }] }`. */
  @MessagePattern(CommandPatterns.RestreamTargets)
  async targets(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<RestreamTargetsReply | (RestreamTargetsReply & { code: string; message: string })> {
    const req = parseRequest(restreamTargetsRequestSchema, body);
    if (!req.ok) return { targets: [], ...req.error };
    const meta = this.metadata(ctx);
    try {
      const state = await this.aggregates.load(req.data.channelId);
      const transportKey = this.config.RESTREAM_KEY_SECRET ?? DEV_KEY;
      const targets: RestreamTargetsReply['targets'] = [];
      for (const t of state.targets.values()) {
        if (!t.enabled) continue;
        try {
          const keySealed = encryptSecret(decryptSecret(t.keyCiphertext, this.config.STREAM_KEY_SECRET), transportKey);
          targets.push({ targetId: t.targetId, name: t.name, url: t.url, keySealed });
        } catch (err) {
          // Never the key nor the ciphertext: only which target and why (e.g. STREAM_KEY_SECRET rotated).
          this.logger.error(
            { targetId: t.targetId, channelId: req.data.channelId, err: (err as Error).message, correlationId: meta.correlationId },
            'restream target key cannot be unsealed; target skipped',
          );
        }
      }
      return { targets };
    } catch (err) {
      this.logger.error({ err: (err as Error).message, correlationId: meta.correlationId }, 'restream-targets failed');
      return { targets: [], code: 'internal_error', message: 'the restream targets could not be read, retry later' };
    }
  }

  /** `ingest.restream-state` `{ channelId, broadcastId, targetId, state, reason }` → `{ ok: true } | { ok: false, code, message }`. */
  @MessagePattern(CommandPatterns.RestreamState)
  async state(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
    const req = parseRequest(restreamStateReportSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    const meta = this.metadata(ctx);
    const { channelId, broadcastId, targetId, state, reason } = req.data;
    try {
      const liveBroadcastId = await this.aggregates.liveBroadcastId(channelId);
      await this.aggregates.handle(
        channelId,
        (current) => ({
          type: 'ReportRestreamState',
          channelId,
          targetId,
          broadcastId,
          liveBroadcastId,
          state,
          reason: reason === null ? null : this.redactKey(reason, current.targets.get(targetId)?.keyCiphertext),
          now: new Date(),
        }),
        meta,
      );
      return { ok: true };
    } catch (err) {
      this.logger.error({ err: (err as Error).message, correlationId: meta.correlationId }, 'restream-state failed');
      return { ok: false, code: 'internal_error', message: 'the state could not be recorded, retry later' };
    }
  }

  /**
   * `reason` without the target's stream key (as typed and URL-encoded), each occurrence replaced by `[stream key]`:
   * the ingest should send key-free reasons, but ffmpeg's messages can echo the URL it was given. A key that cannot be
   * unsealed leaves the reason as is (nothing to find).
   */
  private redactKey(reason: string, keyCiphertext: string | undefined): string {
    if (!keyCiphertext) return reason;
    let key: string;
    try {
      key = decryptSecret(keyCiphertext, this.config.STREAM_KEY_SECRET);
    } catch {
      return reason;
    }
    let out = reason;
    for (const form of new Set([key, encodeURIComponent(key)])) if (form) out = out.split(form).join('[stream key]');
    return out;
  }

  private metadata(ctx: NatsContext): EventMetadata {
    const headers = ctx.getHeaders() as { get?: (k: string) => string } | undefined;
    return { correlationId: correlationIdFrom(headers?.get?.(CORRELATION_HEADER)) };
  }
}
