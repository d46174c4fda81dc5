import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { parseMetrics, sampleValue, type MetricFamily } from '@eventcast/platform';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

describe('GET /metrics (command-api)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  const scrape = async (): Promise<MetricFamily[]> => {
    const res = await fetch(`http://127.0.0.1:${h.api.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseMetrics(await res.text());
  };

  it('serves valid Prometheus text with process metrics and the app info series', async () => {
    const m = await scrape();
    assert.ok(m.some((f) => f.name === 'process_cpu_user_seconds_total' && f.type === 'COUNTER'));
    assert.ok(m.some((f) => f.name === 'nodejs_eventloop_lag_seconds'));
    assert.equal(sampleValue(m, 'eventcast_app_info', { app: 'command-api' }), 1);
  });

  it('counts HTTP requests by route template and status, events appended and events published', async () => {
    const before = await scrape();
    const route = { app: 'command-api', method: 'POST', route: '/auth/register', status: '201' };
    const { token } = await register(h, 'metrics_user');
    const put = await h.http('PUT', '/me/channel', { title: 'Counting' }, bearer(token));
    assert.equal(put.status, 200);
    assert.equal((await h.http('GET', '/no/such/path')).status, 404);

    let now = await scrape();
    assert.equal(sampleValue(now, 'eventcast_http_requests_total', route) - sampleValue(before, 'eventcast_http_requests_total', route), 1);
    assert.equal(sampleValue(now, 'eventcast_http_request_duration_seconds_count', route) - sampleValue(before, 'eventcast_http_request_duration_seconds_count', route), 1);
    assert.ok(sampleValue(now, 'eventcast_http_request_duration_seconds_bucket', { ...route, le: '+Inf' }) >= 1);
    assert.equal(sampleValue(now, 'eventcast_http_requests_total', { route: '/me/channel', method: 'PUT', status: '200' }), 1);
    // Unknown paths share one series: the raw path never becomes a label.
    assert.ok(sampleValue(now, 'eventcast_http_requests_total', { route: 'unmatched', status: '404' }) >= 1);
    assert.ok(!now.some((f) => f.samples.some((s) => s.labels['route'] === '/no/such/path')));

    const stored = await h.allEvents();
    for (const type of ['AccountRegistered', 'ChannelInfoUpdated']) {
      const delta = sampleValue(now, 'eventcast_events_appended_total', { type }) - sampleValue(before, 'eventcast_events_appended_total', { type });
      assert.equal(delta, stored.filter((e) => e.type === type).length, type);
    }
    // The publisher acknowledges asynchronously: wait until every stored event is counted as published, lag 0.
    for (let i = 0; i < 100; i++) {
      now = await scrape();
      if (sampleValue(now, 'eventcast_events_published_total') >= stored.length && sampleValue(now, 'eventcast_publisher_lag_events') === 0) break;
      await sleep(100);
    }
    assert.equal(sampleValue(now, 'eventcast_events_published_total', { type: 'ChannelInfoUpdated', duplicate: 'false' }), 1);
    assert.ok(sampleValue(now, 'eventcast_events_published_total') >= stored.length);
    assert.ok(now.some((f) => f.name === 'eventcast_publisher_lag_events' && f.samples.length === 1));
    assert.equal(sampleValue(now, 'eventcast_publisher_lag_events'), 0);
  });
});
