/**
 * Correlation ids: accepted from the `x-correlation-id` header (HTTP or NATS) when well-formed, generated otherwise,
 * carried into event metadata and log lines, and echoed in the HTTP response header.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventMetadata } from '@eventcast/events';

/** Header name (lower-case, as Node exposes it). */
export const CORRELATION_HEADER = 'x-correlation-id';

const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Returns `candidate` when it is a safe id (1–128 chars of `A-Za-z0-9._:-`), else a new UUID. */
export function correlationIdFrom(candidate: unknown): string {
  return typeof candidate === 'string' && SAFE.test(candidate) ? candidate : randomUUID();
}

/** Request (Fastify's) with the fields this app adds. */
export interface AppRequest extends FastifyRequest {
  correlationId?: string;
  account?: { id: string; username: string };
  /** Set by the idempotency interceptor for a request with an `Idempotency-Key`: the command's derived id. */
  commandId?: string;
}

/** Fastify `onRequest` hook: sets `req.correlationId` and the response header. */
export function correlationHook(req: AppRequest, reply: FastifyReply, done: () => void): void {
  const id = correlationIdFrom(req.headers[CORRELATION_HEADER]);
  req.correlationId = id;
  void reply.header(CORRELATION_HEADER, id);
  done();
}

/**
 * Event metadata of a command issued over HTTP: correlation id, causation id (the request is the first message of
 * the conversation, so causation = correlation, as in Greg Young's convention), when authenticated the actor's account id,
 * and with an `Idempotency-Key` the command id derived from it (`commandId`, see idempotency/command-ids.ts).
 */
export function metadataOf(req: AppRequest, actorId?: string): EventMetadata {
  const correlationId = req.correlationId ?? randomUUID();
  const meta: EventMetadata = { correlationId, causationId: correlationId };
  const actor = actorId ?? req.account?.id;
  if (actor) meta.actorId = actor;
  if (req.commandId) meta.commandId = req.commandId;
  return meta;
}
