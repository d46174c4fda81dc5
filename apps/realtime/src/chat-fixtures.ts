/**
 * Test fixtures (used by *.test.ts only): a real NestJS microservice answering `chat.send` and `chat.send-batch` over NATS (the same
 * transport the command-api uses, so the edge's wire format is checked against Nest itself), also answering
 * `channels.resolve` (libs/contracts) from a map, as command-api does from the account streams.
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { CHANNEL_RESOLVE_SUBJECT, type ChannelResolveReply } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';

/** The behaviour of the responder: receives the request payload, returns (or throws) what the handler would. */
export type ChatSendBehaviour = (data: Record<string, unknown>) => unknown;

/** A running Nest responder; `behaviour` can be swapped between tests and `received` lists every payload. */
export interface ChatResponder {
  behaviour: ChatSendBehaviour;
  received: Record<string, unknown>[];
  /** Channels `channels.resolve` knows: username → channel id (others: `channel_not_found`). */
  channels: Map<string, string>;
  /** Number of `chat.send-batch` requests served. */
  batches: number;
  /** Number of `channels.resolve` requests served. */
  resolves: number;
  /** When set, `channels.resolve` answers `{ ok: false, code: 'unavailable' }` (a command side whose store is down). */
  resolveUnavailable: boolean;
  close(): Promise<void>;
}

/** Starts a NestJS NATS microservice with `chat.send` and `channels.resolve` handlers on `natsUrl`. */
export async function startChatResponder(natsUrl: string): Promise<ChatResponder> {
  const state: ChatResponder = {
    behaviour: () => ({ ok: false, code: 'internal_error', message: 'no behaviour set' }),
    received: [],
    batches: 0,
    channels: new Map(),
    resolves: 0,
    resolveUnavailable: false,
    close: async () => {
      await app.close();
    },
  };

  @Controller()
  class ChatSendController {
    @MessagePattern(CommandPatterns.ChatSend)
    async send(@Payload() data: Record<string, unknown>): Promise<unknown> {
      state.received.push(data);
      return await state.behaviour(data);
    }

    /** As command-api: every request of the batch as `chat.send`, replies in order (a throwing behaviour fails the batch). */
    @MessagePattern(CommandPatterns.ChatSendBatch)
    async sendBatch(@Payload() data: { requests: Record<string, unknown>[] }): Promise<unknown> {
      state.batches += 1;
      const replies = await Promise.all(
        data.requests.map(async (r) => {
          state.received.push(r);
          return await state.behaviour(r);
        }),
      );
      return { ok: true, replies };
    }

    @MessagePattern(CHANNEL_RESOLVE_SUBJECT)
    resolve(@Payload() data: { username: string }): ChannelResolveReply {
      state.resolves += 1;
      if (state.resolveUnavailable) return { ok: false, code: 'unavailable', message: 'store down' };
      const id = state.channels.get(data.username);
      return id ? { ok: true, channelId: id, username: data.username } : { ok: false, code: 'channel_not_found', message: 'no such channel' };
    }
  }

  @Module({ controllers: [ChatSendController] })
  class ResponderModule {}

  const app: INestMicroservice = await NestFactory.createMicroservice<MicroserviceOptions>(ResponderModule, {
    transport: Transport.NATS,
    options: { servers: [natsUrl] },
    logger: false,
  });
  await app.listen();
  return state;
}
