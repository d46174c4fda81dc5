/**
 * NATS request/reply handlers of CommandPatterns (docs/contracts.md), called by apps/ingest. Every payload is
 * validated with zod; bad input and failures get an error reply (code `invalid_request` or `internal_error`),
 * never a thrown RPC error. A correlation id is read from the `x-correlation-id` NATS header or generated.
 */
import { Controller, Inject } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Ctx, MessagePattern, NatsContext, Payload } from '@nestjs/microservices';
import {
  authorizePublishRequestSchema,
  broadcastEndRequestSchema,
  broadcastStartRequestSchema,
  nodeStartedRequestSchema,
  type AuthorizePublishReply,
  type BroadcastStartReply,
  type IngestCommandFailure,
  type IngestCommandResult,
  type NodeStartedReply,
} from '@eventcast/contracts';
import { CommandPatterns, type EventMetadata } from '@eventcast/events';
import { DomainError } from '@eventcast/domain';
import type { Logger } from '@eventcast/platform';
import { CORRELATION_HEADER, correlationIdFrom } from '../core/correlation.js';
import { LOGGER } from '../core/tokens.js';
import { EndBroadcastCommand } from '../broadcasts/commands/end-broadcast.command.js';
import { EndLiveBroadcastsCommand } from '../broadcasts/commands/end-live-broadcasts.command.js';
import { StartBroadcastCommand } from '../broadcasts/commands/start-broadcast.command.js';
import { AuthorizePublishCommand } from './commands/authorize-publish.command.js';
import { parseRequest } from './ingest.schemas.js';

const INTERNAL = { code: 'internal_error', message: 'the command could not be processed, retry later' } as const;

/** Ingest's commands over NATS. */
@Controller()
export class IngestController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** `ingest.authorize-publish` → `{ allowed: true, channelId, username } | { allowed: false, reason, message }`. */
  @MessagePattern(CommandPatterns.AuthorizePublish)
  async authorizePublish(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<AuthorizePublishReply> {
    const req = parseRequest(authorizePublishRequestSchema, body);
    if (!req.ok) return { allowed: false, reason: 'invalid_request', message: req.error.message };
    const meta = this.metadata(ctx);
    try {
      const { channelId, proof, remoteAddress } = req.data;
      const reply = await this.commands.execute(new AuthorizePublishCommand(channelId, proof, remoteAddress, meta));
      this.logger.info({ correlationId: meta.correlationId, channelId, allowed: reply.allowed, reason: reply.allowed ? undefined : reply.reason }, 'publish authorization');
      return reply;
    } catch (err) {
      this.logger.error({ err, correlationId: meta.correlationId }, 'authorize-publish failed');
      return { allowed: false, reason: 'internal_error', message: INTERNAL.message };
    }
  }

  /**
   * `ingest.broadcast-start` → `{ ok: true, broadcastId, record } | { ok: false, code, message }`
   * (`broadcastStartReplySchema` of @eventcast/contracts; `record`: the channel keeps its broadcasts as VODs).
   */
  @MessagePattern(CommandPatterns.BroadcastStart)
  async broadcastStart(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<BroadcastStartReply> {
    const req = parseRequest(broadcastStartRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    const { channelId, broadcastId, media } = req.data;
    return this.run(ctx, 'broadcast-start', async (meta) => {
      const { record } = await this.commands.execute(new StartBroadcastCommand(channelId, broadcastId, media, meta));
      return { ok: true as const, broadcastId, record };
    });
  }

  /** `ingest.broadcast-end` → `{ ok: true } | { ok: false, code, message }` (`not_live`, `broadcast_mismatch`). */
  @MessagePattern(CommandPatterns.BroadcastEnd)
  async broadcastEnd(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<IngestCommandResult> {
    const req = parseRequest(broadcastEndRequestSchema, body);
    if (!req.ok) return { ok: false, ...req.error };
    const { channelId, broadcastId, reason } = req.data;
    return this.run(ctx, 'broadcast-end', async (meta) => {
      await this.commands.execute(new EndBroadcastCommand(channelId, broadcastId, reason, meta));
      return { ok: true as const };
    });
  }

  /** `ingest.node-started` → `{ ended }`: ends broadcasts left live by a crashed ingest (reason `ingest_restart`). */
  @MessagePattern(CommandPatterns.IngestNodeStarted)
  async nodeStarted(@Payload() body: unknown, @Ctx() ctx: NatsContext): Promise<NodeStartedReply> {
    const req = parseRequest(nodeStartedRequestSchema, body);
    if (!req.ok) return { ended: 0, ...req.error };
    const meta = { ...this.metadata(ctx), ingestId: req.data.ingestId };
    try {
      const ended = await this.commands.execute(new EndLiveBroadcastsCommand('ingest_restart', meta));
      this.logger.info({ correlationId: meta.correlationId, ingestId: req.data.ingestId, ended }, 'ingest node started: live broadcasts ended');
      return { ended };
    } catch (err) {
      this.logger.error({ err, correlationId: meta.correlationId }, 'node-started failed');
      return { ended: 0, ...INTERNAL };
    }
  }

  /** Runs a broadcast command, mapping DomainError to `{ ok: false, code, message }` and crashes to `internal_error`. */
  private async run<T>(ctx: NatsContext, name: string, fn: (meta: EventMetadata) => Promise<T>): Promise<T | IngestCommandFailure> {
    const meta = this.metadata(ctx);
    try {
      const reply = await fn(meta);
      this.logger.info({ correlationId: meta.correlationId, command: name }, 'ingest command done');
      return reply;
    } catch (err) {
      if (err instanceof DomainError) {
        this.logger.info({ correlationId: meta.correlationId, command: name, code: err.code }, 'ingest command refused');
        return { ok: false, code: err.code, message: err.message };
      }
      this.logger.error({ err, correlationId: meta.correlationId, command: name }, 'ingest command failed');
      return { ok: false, ...INTERNAL };
    }
  }

  /** Event metadata of a NATS request: the caller's correlation id header, or a new one. */
  private metadata(ctx: NatsContext): EventMetadata {
    const headers = ctx.getHeaders() as { get?: (k: string) => string } | undefined;
    return { correlationId: correlationIdFrom(headers?.get?.(CORRELATION_HEADER)) };
  }
}
