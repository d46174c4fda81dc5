/**
 * `GET /metrics` of the edge and its relay log line: the real uWS server, a private nats-server with JetStream and
 * the real Redis. Counters move after a WebSocket connection, frames both ways, an error frame and a relayed event;
 * the relay's debug line carries the event's correlation id (logs captured through a pino destination).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { loadConfig, parseMetrics, sampleValue, type MetricFamily } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { startRealtime, type RealtimeServer } from './server.js';
import { channelInfoUpdated, openClient, poll, publishEvent } from './test-support.js';

describe('realtime /metrics and relay logs', () => {
  let natsServer: PrivateNatsServer;
  let server: RealtimeServer;
  let nc: NatsConnection;
  let js: JetStreamClient;
  const lines: string[] = [];
  const channel = `metrics_${randomBytes(4).toString('hex')}`;

  before(async () => {
    natsServer = await startPrivateNats();
    const logger = pino({ level: 'debug', base: { service: 'realtime' } }, { write: (l: string) => void lines.push(l) });
    server = await startRealtime({
      config: { ...loadConfig(), REALTIME_PORT: 0, HOST: '127.0.0.1', NATS_URL: natsServer.url },
      logger,
      waitForRelay: true,
      edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0 },
    });
    nc = await connect({ servers: natsServer.url });
    js = jetstream(nc);
  });
  after(async () => {
    await nc.close();
    await server.close();
    await natsServer.dispose();
  });

  const scrape = async (): Promise<MetricFamily[]> => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  };

  test('connections, frames in/out, error frames and relayed events move the counters', async () => {
    const before = await scrape();
    assert.equal(sampleValue(before, 'eventcast_app_info', { app: 'realtime' }), 1);
    const open0 = sampleValue(before, 'eventcast_realtime_connections');
    const delta = (now: MetricFamily[], name: string, labels: Record<string, string> = {}): number =>
      sampleValue(now, name, labels) - sampleValue(before, name, labels);

    const client = await openClient(server.port);
    await client.request({ type: 'subscribe', channel }, (f) => f.type === 'subscribed');
    await client.request({ type: 'ping' }, (f) => f.type === 'pong');
    await client.request({ type: 'subscribe', channel: 'Not A Channel!' }, (f) => f.type === 'error');
    const ev = channelInfoUpdated(channel);
    await publishEvent(js, ev, 'account');
    await client.next((f) => f.type === 'event' && (f['event'] as { id: string }).id === ev.id);

    let now = await scrape();
    assert.equal(sampleValue(now, 'eventcast_realtime_connections'), open0 + 1);
    assert.equal(delta(now, 'eventcast_realtime_connections_opened_total'), 1);
    assert.equal(delta(now, 'eventcast_realtime_frames_received_total', { type: 'subscribe' }), 1);
    assert.equal(delta(now, 'eventcast_realtime_frames_received_total', { type: 'ping' }), 1);
    assert.equal(delta(now, 'eventcast_realtime_frames_received_total', { type: 'invalid' }), 1);
    assert.equal(delta(now, 'eventcast_realtime_frames_sent_total', { type: 'welcome' }), 1);
    assert.equal(delta(now, 'eventcast_realtime_frames_sent_total', { type: 'pong' }), 1);
    assert.equal(delta(now, 'eventcast_realtime_error_frames_total', { code: 'invalid_channel' }), 1);
    assert.equal(delta(now, 'eventcast_realtime_events_relayed_total', { type: 'ChannelInfoUpdated' }), 1);

    assert.equal(await client.close(), 1000);
    now = await poll(scrape, (m) => sampleValue(m, 'eventcast_realtime_connections') === open0);
    assert.equal(sampleValue(now, 'eventcast_realtime_connections'), open0);
    assert.equal(delta(now, 'eventcast_realtime_disconnects_total', { code: '1000' }), 1);

    // The relay's debug line names the event and carries its correlation id (never forwarded to viewers).
    const relayedLine = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'relayed event' && l['id'] === ev.id);
    assert.ok(relayedLine, 'relay log line');
    assert.equal(relayedLine['correlationId'], ev.metadata.correlationId);
  });
});
