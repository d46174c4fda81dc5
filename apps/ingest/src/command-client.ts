/**
 * Client for the command side's NATS request/reply patterns (docs/contracts.md, "Command request/reply over NATS").
 *
 * Uses `ClientNats` of @nestjs/microservices so the wire format is exactly the one the NestJS server expects:
 * request `{ pattern, data, id }` JSON on subject = pattern, reply `{ err, response, isDisposed, id }` on an inbox.
 * Every request has a deadline; a missing reply, a NATS outage or a server-side error rejects the promise, so callers
 * can fail closed.
 */
import 'reflect-metadata';
import { Logger, type LoggerService } from '@nestjs/common';
import { ClientNats, ClientProxyFactory, Transport } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import {
  broadcastRecordedReplySchema,
  broadcastStartReplySchema,
  restreamTargetsReplySchema,
  type AuthorizePublishReply,
  type BroadcastEndRequest,
  type BroadcastRecordedReply,
  type BroadcastRecordedRequest,
  type AuthorizePublishRequest as AuthorizePublishWire,
  type BroadcastStartReply,
  type BroadcastStartRequest,
  type HealthCommandReply,
  type HealthSampleRequest,
  type IngestCommandResult,
  type InputRefusedRequest,
  type NodeStartedRequest,
  type RestreamStateReport,
  type RestreamTargetsReply,
  type RestreamTargetsRequest,
} from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import { createPublishProof, type Logger as PinoLogger } from '@eventcast/platform';

/**
 * What the publish gate asks: the channel parsed from the key and the key's SHA-256 hash. The hash stays in this
 * process: {@link NatsCommandClient} sends a one-time proof made from it instead (`AuthorizePublishRequest` of
 * @eventcast/contracts; ARCHITECTURE.md invariant 9).
 */
export interface AuthorizePublishRequest {
  channelId: string | null;
  streamKeyHash: string;
  remoteAddress: string;
}

/** Connection options of the command client (`natsConnectionOptions(config, 'ingest')` of @eventcast/platform). */
export interface CommandClientNatsOptions {
  servers: string[];
  name?: string;
  inboxPrefix?: string;
  user?: string;
  pass?: string;
}

/**
 * Replies of the commands (declared once in @eventcast/contracts, ingest-commands.ts and vod.ts, and shared with
 * command-api). The publish gate imports `AuthorizePublishReply` from here.
 */
export type { AuthorizePublishReply };

/** The operations the ingest needs from the command side. Implemented by {@link NatsCommandClient}. */
export interface CommandClient {
  authorizePublish(req: AuthorizePublishRequest): Promise<AuthorizePublishReply>;
  broadcastStart(req: BroadcastStartRequest): Promise<BroadcastStartReply>;
  /** `ingest.broadcast-recorded`: the recording of an ended broadcast is complete in storage (issue 11). */
  broadcastRecorded(req: BroadcastRecordedRequest): Promise<BroadcastRecordedReply>;
  broadcastEnd(req: BroadcastEndRequest): Promise<IngestCommandResult>;
  nodeStarted(req: NodeStartedRequest): Promise<{ ended: number }>;
  /** `ingest.health-sample` (stream health, issue 10 item 5). */
  healthSample(req: HealthSampleRequest): Promise<HealthCommandReply>;
  /** `ingest.input-refused`: a publish refused for its media. */
  inputRefused(req: InputRefusedRequest): Promise<HealthCommandReply>;
  /** `ingest.restream-targets`: the enabled restream targets of a live channel (keys sealed, issue 10 item 7). */
  restreamTargets(req: RestreamTargetsRequest): Promise<RestreamTargetsReply>;
  /** `ingest.restream-state`: one state change of a restream target. */
  restreamState(req: RestreamStateReport): Promise<IngestCommandResult>;
  close(): Promise<void>;
}

/** Raised when the command side does not answer within the deadline. */
export class CommandTimeoutError extends Error {
  constructor(pattern: string, ms: number, options?: ErrorOptions) {
    super(`command side did not answer ${pattern} within ${ms} ms`, options);
    this.name = 'CommandTimeoutError';
  }
}

/** Raised when a reply does not have the shape of docs/contracts.md. */
export class MalformedReplyError extends Error {
  constructor(pattern: string) {
    super(`malformed reply to ${pattern}`);
    this.name = 'MalformedReplyError';
  }
}

/**
 * Routes the Nest `Logger` (used inside ClientNats for connection status lines) into the process's pino logger, so
 * every line stays structured JSON. Process-wide: the ingest has no other Nest component.
 */
export function routeNestLogsTo(log: PinoLogger): void {
  const nest = log.child({ component: 'nest' });
  const fmt = (m: unknown) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m));
  const service: LoggerService = {
    log: (m: unknown, ctx?: unknown) => nest.info({ context: ctx }, fmt(m)),
    error: (m: unknown, ctx?: unknown) => nest.error({ context: ctx }, fmt(m)),
    warn: (m: unknown, ctx?: unknown) => nest.warn({ context: ctx }, fmt(m)),
    debug: (m: unknown, ctx?: unknown) => nest.debug({ context: ctx }, fmt(m)),
    verbose: (m: unknown, ctx?: unknown) => nest.trace({ context: ctx }, fmt(m)),
  };
  Logger.overrideLogger(service);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** NATS implementation of {@link CommandClient}. Connects lazily on the first request; reconnects by itself. */
export class NatsCommandClient implements CommandClient {
  private readonly client: ClientNats;

  /**
   * @param nats servers, credentials and inbox prefix of the ingest's NATS user (`natsConnectionOptions`).
   * @param timeoutMs deadline of every request in milliseconds.
   * @param subjectPrefix prepended to each pattern (empty in production; see `INGEST_COMMAND_SUBJECT_PREFIX`).
   */
  constructor(
    nats: CommandClientNatsOptions,
    private readonly timeoutMs: number,
    private readonly subjectPrefix = '',
  ) {
    this.client = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: { name: 'eventcast-ingest', ...nats, reconnect: true, maxReconnectAttempts: -1 },
    }) as ClientNats;
  }

  /**
   * Sends one request and waits for the reply.
   * @throws {CommandTimeoutError} no reply within the deadline. @throws {Error} transport or server-side error.
   */
  private async request(pattern: string, data: unknown): Promise<unknown> {
    const subject = this.subjectPrefix + pattern;
    try {
      return await firstValueFrom(this.client.send<unknown>(subject, data).pipe(timeout({ first: this.timeoutMs })));
    } catch (err: unknown) {
      if (isObj(err) && err['name'] === 'TimeoutError') throw new CommandTimeoutError(pattern, this.timeoutMs, { cause: err });
      if (err instanceof Error) throw err;
      throw new Error(`command side error on ${pattern}: ${isObj(err) ? JSON.stringify(err) : String(err)}`, { cause: err });
    }
  }

  /**
   * `ingest.authorize-publish` with a fresh one-time proof of the key (`createPublishProof`): neither the key nor
   * its hash leaves the process. @throws when unreachable, late or malformed (callers reject the publish).
   */
  async authorizePublish(req: AuthorizePublishRequest): Promise<AuthorizePublishReply> {
    const wire: AuthorizePublishWire = {
      channelId: req.channelId,
      proof: createPublishProof(req.streamKeyHash, req.channelId),
      remoteAddress: req.remoteAddress,
    };
    const r = await this.request(CommandPatterns.AuthorizePublish, wire);
    if (!isObj(r) || typeof r['allowed'] !== 'boolean') throw new MalformedReplyError(CommandPatterns.AuthorizePublish);
    if (r['allowed'] && (typeof r['channelId'] !== 'string' || typeof r['username'] !== 'string')) {
      throw new MalformedReplyError(CommandPatterns.AuthorizePublish);
    }
    return r as AuthorizePublishReply;
  }

  /**
   * `ingest.broadcast-start`, its reply read with `broadcastStartReplySchema`. A success reply without `record` (a
   * command side older than issue 11) means `record: true`, one without `broadcastId` the id that was sent.
   * @throws {MalformedReplyError} for any other shape.
   */
  async broadcastStart(req: BroadcastStartRequest): Promise<BroadcastStartReply> {
    const r = await this.request(CommandPatterns.BroadcastStart, req);
    const filled = isObj(r) && r['ok'] === true ? { broadcastId: req.broadcastId, record: true, ...r } : r;
    const parsed = broadcastStartReplySchema.safeParse(filled);
    if (!parsed.success) throw new MalformedReplyError(CommandPatterns.BroadcastStart);
    return parsed.data;
  }

  /**
   * `ingest.broadcast-recorded` (body `broadcastRecordedRequestSchema`, reply `broadcastRecordedReplySchema`).
   * @throws {MalformedReplyError} for a reply of another shape.
   */
  async broadcastRecorded(req: BroadcastRecordedRequest): Promise<BroadcastRecordedReply> {
    const r = await this.request(CommandPatterns.BroadcastRecorded, req);
    const parsed = broadcastRecordedReplySchema.safeParse(isObj(r) && r['ok'] === true && !('position' in r) ? { ...r, position: null } : r);
    if (!parsed.success) throw new MalformedReplyError(CommandPatterns.BroadcastRecorded);
    return parsed.data;
  }

  /** `ingest.broadcast-end`. */
  async broadcastEnd(req: BroadcastEndRequest): Promise<IngestCommandResult> {
    return this.result(CommandPatterns.BroadcastEnd, await this.request(CommandPatterns.BroadcastEnd, req));
  }

  /** `ingest.node-started`: the command side ends broadcasts a crashed ingest left live. */
  async nodeStarted(req: NodeStartedRequest): Promise<{ ended: number }> {
    const r = await this.request(CommandPatterns.IngestNodeStarted, req);
    if (!isObj(r) || typeof r['ended'] !== 'number') throw new MalformedReplyError(CommandPatterns.IngestNodeStarted);
    return { ended: r['ended'] };
  }

  /** `ingest.health-sample`. @throws when unreachable, late or malformed. */
  async healthSample(req: HealthSampleRequest): Promise<HealthCommandReply> {
    return this.healthReply(CommandPatterns.HealthSample, await this.request(CommandPatterns.HealthSample, req));
  }

  /** `ingest.input-refused`. @throws when unreachable, late or malformed. */
  async inputRefused(req: InputRefusedRequest): Promise<HealthCommandReply> {
    return this.healthReply(CommandPatterns.InputRefused, await this.request(CommandPatterns.InputRefused, req));
  }

  private healthReply(pattern: string, r: unknown): HealthCommandReply {
    if (!isObj(r) || typeof r['ok'] !== 'boolean') throw new MalformedReplyError(pattern);
    return r as HealthCommandReply;
  }

  /**
   * `ingest.restream-targets`. @throws {MalformedReplyError} for a reply that is not the contract's shape, or an error
   * reply (`code` set: the command side could not read the targets).
   */
  async restreamTargets(req: RestreamTargetsRequest): Promise<RestreamTargetsReply> {
    const r = await this.request(CommandPatterns.RestreamTargets, req);
    const parsed = restreamTargetsReplySchema.safeParse(r);
    if (!parsed.success || (isObj(r) && typeof r['code'] === 'string')) throw new MalformedReplyError(CommandPatterns.RestreamTargets);
    return parsed.data;
  }

  /** `ingest.restream-state`. */
  async restreamState(req: RestreamStateReport): Promise<IngestCommandResult> {
    return this.result(CommandPatterns.RestreamState, await this.request(CommandPatterns.RestreamState, req));
  }

  private result(pattern: string, r: unknown): IngestCommandResult {
    if (!isObj(r) || typeof r['ok'] !== 'boolean') throw new MalformedReplyError(pattern);
    return r as IngestCommandResult;
  }

  /** Closes the NATS connection; pending requests fail with "Connection closed". */
  async close(): Promise<void> {
    await this.client.close();
  }
}
