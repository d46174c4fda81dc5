/**
 * Test fixtures (used by *.test.ts only): a real NestJS microservice answering `chat.send` over NATS (the same
 * transport the command-api uses, so the edge's wire format is checked against Nest itself), and a stand-in for
 * query-api's `GET /channels/:username`.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { CommandPatterns } from '@eventcast/events';

/** The behaviour of the responder: receives the request payload, returns (or throws) what the handler would. */
export type ChatSendBehaviour = (data: Record<string, unknown>) => unknown;

/** A running Nest responder; `behaviour` can be swapped between tests and `received` lists every payload. */
export interface ChatResponder {
  behaviour: ChatSendBehaviour;
  received: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts a NestJS NATS microservice with one `@MessagePattern('chat.send')` handler on `natsUrl`. */
export async function startChatResponder(natsUrl: string): Promise<ChatResponder> {
  const state: ChatResponder = {
    behaviour: () => ({ ok: false, code: 'internal_error', message: 'no behaviour set' }),
    received: [],
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

/** A fake query-api: `GET /channels/:username` → `{ id, username }` for known channels, else 404. */
export interface FakeQueryApi {
  url: string;
  channels: Map<string, string>;
  /** Number of channel look-ups served. */
  hits: number;
  close(): Promise<void>;
}

/** Starts {@link FakeQueryApi} on a free port. */
export async function startFakeQueryApi(): Promise<FakeQueryApi> {
  const channels = new Map<string, string>();
  const api: FakeQueryApi = { url: '', channels, hits: 0, close: () => new Promise((r) => server.close(() => r())) };
  const server: Server = createServer((req, res) => {
    const m = /^\/channels\/([a-z0-9_]+)$/.exec(req.url ?? '');
    const id = m ? channels.get(m[1] as string) : undefined;
    api.hits += 1;
    res.setHeader('content-type', 'application/json');
    if (!id) {
      res.statusCode = 404;
      res.end(JSON.stringify({ statusCode: 404, error: 'Not Found', message: 'channel not found' }));
      return;
    }
    res.end(JSON.stringify({ id, username: m?.[1], title: '', category: '', live: false, broadcast: null, playbackUrl: null }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}
