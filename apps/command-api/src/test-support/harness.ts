/**
 * Test harness: a command API on a fresh PostgreSQL database and a private NATS server, an HTTP helper (global
 * fetch), a NATS ClientProxy for the request/reply patterns, and every log line captured for secret scanning.
 */
import { parseRateLimits } from '@eventcast/contracts';
import { firstValueFrom } from 'rxjs';
import { pino } from 'pino';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { PostgresEventStore } from '@eventcast/event-store';
import { toWire, type WireEvent } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import { bootstrapCommandApi, type CommandApi } from '../bootstrap.js';
import type { CommandApiConfig } from '../core/config.js';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';

/** Reply of {@link Harness.http}. */
export interface HttpReply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A running app plus helpers; `stop()` tears everything down. */
export interface Harness {
  api: CommandApi;
  config: CommandApiConfig;
  db: TestDatabase;
  nats: PrivateNatsServer;
  client: ClientProxy;
  /** Captured JSON log lines (raw text). */
  logs: string[];
  /** `fetch` against the app; JSON in and out. */
  http<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpReply<T>>;
  /** NATS request/reply through @nestjs/microservices. */
  request<T = Record<string, unknown>>(pattern: string, payload: unknown): Promise<T>;
  /** Every stored event in wire form (JSON-safe), read with a separate store connection. */
  allEvents(): Promise<WireEvent[]>;
  stop(): Promise<void>;
}

/**
 * Starts a harness. `overrides` patch the config (e.g. a low auth rate limit). With `natsAuth` the private NATS runs
 * the platform's authorization model: the app connects as `command-api`, the test's client as the test-only admin
 * (it plays the ingest and the realtime edge).
 */
export async function startHarness(overrides: Partial<CommandApiConfig> = {}, options: { natsAuth?: boolean } = {}): Promise<Harness> {
  const db = await createTestDatabase('command_api_test');
  const nats = await startPrivateNats({ auth: options.natsAuth === true });
  const config: CommandApiConfig = {
    ...loadConfig({}),
    DATABASE_URL: db.url,
    ...nats.envFor('command-api'),
    COMMAND_API_PORT: 0,
    HOST: '127.0.0.1',
    STREAM_KEY_SECRET: 'ab'.repeat(32),
    JWT_SECRET: 'test-secret-test-secret-test-secret',
    // Generous budgets (tests override them), counted under this harness's own Redis keys.
    RATE_LIMITS: parseRateLimits('auth=1000/1m, api=100000/1m'),
    RATE_LIMIT_KEY_PREFIX: `test:${db.name}`,
    ...overrides,
  };
  const logs: string[] = [];
  const logger = pino({ level: 'debug', base: { service: 'command-api' } }, { write: (line: string) => void logs.push(line) });
  const api = await bootstrapCommandApi(config, { logger, shutdownHooks: false });
  const admin = nats.admin ? { user: nats.admin.user, pass: nats.admin.password } : {};
  const client = ClientProxyFactory.create({ transport: Transport.NATS, options: { servers: [nats.url], ...admin } });
  await client.connect();
  const reader = new PostgresEventStore({ connectionString: db.url });
  const base = `http://127.0.0.1:${api.port}`;
  return {
    api,
    config,
    db,
    nats,
    client,
    logs,
    async http<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
      const res = await fetch(base + path, init);
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T, headers: res.headers };
    },
    request<T>(pattern: string, payload: unknown) {
      return firstValueFrom(client.send<T>(pattern, payload));
    },
    async allEvents() {
      const out: WireEvent[] = [];
      for (let after = 0n; ; ) {
        const page = await reader.readAll({ after, limit: 1000 });
        out.push(...page.map(toWire));
        const last = page.at(-1);
        if (!last || page.length < 1000) return out;
        after = last.globalPosition;
      }
    },
    async stop() {
      await client.close();
      await api.close();
      await reader.close();
      await nats.dispose();
      await db.drop();
    },
  };
}

/** Registers `username` and returns the token and account id. @throws when the reply is not 201. */
export async function register(h: Harness, username: string, password = 'correct horse battery'): Promise<{ token: string; id: string }> {
  const r = await h.http<{ token: string; account: { id: string } }>('POST', '/auth/register', { username, password });
  if (r.status !== 201) throw new Error(`register ${username}: ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, id: r.body.account.id };
}

/** `Authorization: Bearer <token>` header. */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
