/**
 * Observability through the whole platform (issue 4, part 3), the apps running as processes at LOG_LEVEL=debug with
 * their JSON logs in files:
 * - every app's metrics endpoint parses as Prometheus text, and the counters move after real actions;
 * - one correlation id follows a chat message from the HTTP request (X-Correlation-Id, echoed) through the stored
 *   event's metadata to query-api's projector log and the edge's relay log; a WebSocket `chat.send` gets one from the
 *   edge that reaches the same places.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createEventStore, type EventStore } from '@eventcast/event-store';
import { loadConfig, parseMetrics, sampleValue, type MetricFamily } from '@eventcast/platform';
import { eventually, startE2ePlatform, type E2eEnv } from './harness.js';
import { connectEdge, type EdgeClient } from './ws-client.js';

describe('observability, end to end', () => {
  let env: E2eEnv;
  let store: EventStore;
  const clients: EdgeClient[] = [];
  const username = `obs_${Date.now().toString(36).slice(-5)}`;

  before(async () => {
    env = await startE2ePlatform();
    store = await createEventStore({ ...loadConfig({}), DATABASE_URL: env.db.url });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await store?.close();
    await env?.dispose();
  });

  const metricsUrl = (app: 'commandApi' | 'queryApi' | 'realtime' | 'ingest' | 'web'): string => {
    const p = env.platform.ports;
    return {
      commandApi: `http://127.0.0.1:${p.commandApi}/metrics`,
      queryApi: `http://127.0.0.1:${p.queryApi}/metrics`,
      realtime: `http://127.0.0.1:${p.realtime}/metrics`,
      ingest: `http://127.0.0.1:${p.hls}/metrics`,
      web: `http://127.0.0.1:${p.web}/-/metrics`,
    }[app];
  };
  const scrape = async (app: Parameters<typeof metricsUrl>[0]): Promise<MetricFamily[]> => {
    const res = await fetch(metricsUrl(app));
    assert.equal(res.status, 200, app);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/, app);
    return parseMetrics(await res.text());
  };
  /** JSON log lines of `app` (one file per app, written by the launcher). */
  const logLines = (app: string): Record<string, unknown>[] =>
    readFileSync(join(env.logDir, `${app}.log`), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const logged = (app: string, msg: string, correlationId: string) => () =>
    Promise.resolve(logLines(app).find((l) => l['msg'] === msg && l['correlationId'] === correlationId));

  it('every app serves Prometheus text at its metrics endpoint, with process metrics', async () => {
    const apps = { commandApi: 'command-api', queryApi: 'query-api', realtime: 'realtime', ingest: 'ingest', web: 'web' } as const;
    for (const [key, app] of Object.entries(apps) as [keyof typeof apps, string][]) {
      const m = await scrape(key);
      assert.equal(sampleValue(m, 'eventcast_app_info', { app }), 1, app);
      assert.ok(m.some((f) => f.name === 'process_resident_memory_bytes'), app);
    }
  });

  it('one correlation id follows an HTTP chat message into the event, the projector and the edge; counters move', async () => {
    const before = { command: await scrape('commandApi'), query: await scrape('queryApi'), edge: await scrape('realtime'), web: await scrape('web') };
    const reg = await fetch(`${env.platform.urls.commandApi}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'a long enough password' }),
    });
    assert.equal(reg.status, 201);
    const { token } = (await reg.json()) as { token: string };
    const viewer = await connectEdge(`${env.platform.urls.realtime}?token=${token}`);
    clients.push(viewer);
    await viewer.request({ type: 'subscribe', channel: username }, (f) => f.type === 'subscribed');
    assert.equal((await fetch(`${env.platform.urls.web}/${username}`)).status, 200);

    const correlationId = `obs-${randomUUID()}`;
    const sent = await fetch(`${env.platform.urls.commandApi}/channels/${username}/chat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-correlation-id': correlationId },
      body: JSON.stringify({ text: 'observable hello' }),
    });
    assert.ok(sent.ok, `${sent.status} ${await sent.clone().text()}`);
    assert.equal(sent.headers.get('x-correlation-id'), correlationId, 'echoed by command-api');
    const { messageId } = (await sent.json()) as { messageId: string };
    await viewer.next((f) => f.type === 'event' && (f['event'] as { data: { messageId?: string } }).data.messageId === messageId);

    const stored = (await store.readAll({ after: 0n, limit: 10_000 })).find((e) => e.type === 'ChatMessageSent' && (e.data as { messageId: string }).messageId === messageId);
    assert.ok(stored, 'stored event');
    assert.equal(stored.metadata.correlationId, correlationId);
    assert.equal(stored.metadata.causationId, correlationId);
    await eventually('command-api request log line', logged('command-api', 'http request', correlationId));
    const projected = await eventually('query-api projector log line', logged('query-api', 'event projected', correlationId));
    assert.equal(projected['id'], stored.id);
    const relayed = await eventually('edge relay log line', logged('realtime', 'relayed event', correlationId));
    assert.equal(relayed['id'], stored.id);

    const now = { command: await scrape('commandApi'), query: await scrape('queryApi'), edge: await scrape('realtime'), web: await scrape('web') };
    const delta = (k: keyof typeof now, name: string, labels: Record<string, string> = {}): number => sampleValue(now[k], name, labels) - sampleValue(before[k], name, labels);
    assert.equal(delta('command', 'eventcast_http_requests_total', { route: '/channels/:username/chat/messages', method: 'POST' }), 1);
    assert.equal(delta('command', 'eventcast_events_appended_total', { type: 'ChatMessageSent' }), 1);
    await eventually('published counted', async () => {
      const m = await scrape('commandApi');
      return sampleValue(m, 'eventcast_events_published_total', { type: 'ChatMessageSent' }) - sampleValue(before.command, 'eventcast_events_published_total', { type: 'ChatMessageSent' }) === 1;
    });
    assert.ok(delta('query', 'eventcast_projector_events_total') >= 1);
    const lagZero = await eventually('projection lag 0', async () => {
      const m = await scrape('queryApi');
      return sampleValue(m, 'eventcast_projection_lag_events') === 0 && m;
    });
    assert.equal(sampleValue(lagZero, 'eventcast_projection_checkpoint', { projection: 'chat-messages' }), Number(await store.headPosition()));
    assert.equal((await fetch(`${env.platform.urls.queryApi}/ready`)).status, 200);
    assert.ok(delta('edge', 'eventcast_realtime_connections_opened_total') >= 1);
    assert.ok(sampleValue(now.edge, 'eventcast_realtime_connections') >= 1);
    assert.ok(delta('edge', 'eventcast_realtime_events_relayed_total', { type: 'ChatMessageSent' }) >= 1);
    assert.equal(delta('web', 'eventcast_http_requests_total', { route: '/[username=username]', status: '200' }), 1);
  });

  it('a WebSocket chat.send gets a correlation id at the edge that reaches the event, the projector and the relay', async () => {
    const reg = await fetch(`${env.platform.urls.commandApi}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'a long enough password' }),
    });
    const { token } = (await reg.json()) as { token: string };
    const c = await connectEdge(`${env.platform.urls.realtime}?token=${token}`);
    clients.push(c);
    await c.next((f) => f.type === 'authenticated');
    await c.request({ type: 'subscribe', channel: username }, (f) => f.type === 'subscribed');
    const ack = await c.request({ type: 'chat.send', channel: username, text: 'over the socket', nonce: 'obs-1' }, (f) => f.type === 'chat.ack' || f.type === 'error');
    assert.equal(ack.type, 'chat.ack', JSON.stringify(ack));
    const stored = await eventually('stored', async () =>
      (await store.readAll({ after: 0n, limit: 10_000 })).find((e) => e.type === 'ChatMessageSent' && (e.data as { messageId: string }).messageId === ack['messageId']),
    );
    const correlationId = stored.metadata.correlationId;
    assert.ok(typeof correlationId === 'string' && correlationId.length > 0);
    await eventually('edge chat.send log line', logged('realtime', 'chat.send forwarded to the command side', correlationId));
    await eventually('query-api projector log line', logged('query-api', 'event projected', correlationId));
    await eventually('edge relay log line', logged('realtime', 'relayed event', correlationId));
  });
});
