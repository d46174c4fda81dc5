/**
 * The route both HTTP frameworks serve in the http-framework benchmark, built the way command-api builds its routes:
 * `POST /channels/:username/chat/messages` behind a guard that verifies an HS256 bearer token with jsonwebtoken, a
 * global ValidationPipe (whitelist, forbidNonWhitelisted, transform) over a class-validator DTO, CORS for any origin,
 * and a JSON reply one event-loop turn later (`setImmediate`, where command-api awaits its command). No storage, so
 * what is measured is the framework's share of a command.
 *
 * Run as a child by ../http-framework.ts: `node dist/http-framework/app.js express|fastify`; it prints
 * `{"port":N}` on its first stdout line.
 */
import 'reflect-metadata';
import type { Server } from 'node:http';
import { Body, Controller, HttpCode, Injectable, Module, Param, Post, UnauthorizedException, UseGuards, ValidationPipe, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { IsString, MaxLength } from 'class-validator';
import jwt from 'jsonwebtoken';

/** Secret of the tokens (the benchmark signs with the same one). */
export const BENCH_JWT_SECRET = process.env['BENCH_JWT_SECRET'] ?? 'http-framework-bench-secret-0123456789';

class SendDto {
  @IsString()
  @MaxLength(500)
  text!: string;
}

@Injectable()
class BearerGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; account?: unknown }>();
    const header = req.headers['authorization'] ?? '';
    try {
      req.account = jwt.verify(header.slice('Bearer '.length), BENCH_JWT_SECRET, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedException('invalid token');
    }
    return true;
  }
}

@Controller()
class ChatController {
  @Post('channels/:username/chat/messages')
  @HttpCode(201)
  @UseGuards(BearerGuard)
  async send(@Param('username') username: string, @Body() body: SendDto): Promise<{ messageId: string; position: string }> {
    await new Promise((resolve) => setImmediate(resolve));
    return { messageId: `${username}-${body.text.length}`, position: '1' };
  }
}

@Module({ controllers: [ChatController] })
class BenchModule {}

const kind = process.argv[2];
if (kind !== 'express' && kind !== 'fastify') throw new Error('usage: app.js express|fastify');
const app = await NestFactory.create(BenchModule, kind === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(), { logger: false });
app.enableCors({ origin: '*' });
app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
await app.listen(0, '127.0.0.1');
const address = (app.getHttpServer() as Server).address() as { port: number };
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
