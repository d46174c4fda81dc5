import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { counter, gauge, histogram, metricsAccessAllowed, metricsTokenFromEnv, parseMetrics, registerAppMetrics, renderMetrics, sampleValue } from './metrics.js';

describe('process metrics registry', () => {
  it('returns the same metric for the same name and refuses a name reused with another type', () => {
    const a = counter({ name: 'test_things_total', help: 'things', labelNames: ['kind'] });
    const b = counter({ name: 'test_things_total', help: 'things', labelNames: ['kind'] });
    assert.equal(a, b);
    assert.throws(() => gauge({ name: 'test_things_total', help: 'x' }), /another type/);
  });

  it('renders text that parses back, labeled histograms and escaped label values included', async () => {
    registerAppMetrics('platform-test');
    counter({ name: 'test_things_total', help: 'things', labelNames: ['kind'] }).inc({ kind: 'a "quoted"\\ value\nnext' }, 3);
    const h = histogram({ name: 'test_latency_seconds', help: 'latency', labelNames: ['route'], buckets: [0.1, 1] });
    h.observe({ route: '/a' }, 0.05);
    h.observe({ route: '/b' }, 0.5);
    h.observe({ route: '/b' }, 5);
    const m = parseMetrics(await renderMetrics());
    assert.equal(sampleValue(m, 'test_things_total', { kind: 'a "quoted"\\ value\nnext' }), 3);
    assert.equal(sampleValue(m, 'test_latency_seconds_count', { route: '/b' }), 2);
    assert.equal(sampleValue(m, 'test_latency_seconds_bucket', { route: '/b', le: '1' }), 1);
    assert.equal(sampleValue(m, 'test_latency_seconds_bucket', { route: '/a', le: '0.1' }), 1);
    assert.equal(sampleValue(m, 'test_latency_seconds_sum', { route: '/b' }), 5.5);
    assert.equal(sampleValue(m, 'eventcast_app_info', { app: 'platform-test' }), 1);
    assert.equal(m.find((f) => f.name === 'test_latency_seconds')?.type, 'HISTOGRAM');
    assert.ok(m.some((f) => f.name === 'process_resident_memory_bytes'));
  });

  it('rejects text that is not the exposition format', () => {
    assert.throws(() => parseMetrics('# TYPE x counter\nx{a="1" 2\n'));
    assert.throws(() => parseMetrics('not a metric line at all\n'));
  });
});

describe('metrics access (METRICS_TOKEN)', () => {
  const token = 'scrape-secret-0123456789';
  it('is open without a token and requires exactly `Bearer <token>` with one', () => {
    assert.equal(metricsTokenFromEnv({}), null);
    assert.equal(metricsTokenFromEnv({ METRICS_TOKEN: '  ' }), null);
    assert.equal(metricsTokenFromEnv({ METRICS_TOKEN: ` ${token} ` }), token);
    assert.throws(() => metricsTokenFromEnv({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 16 characters/);
    assert.equal(metricsAccessAllowed(undefined, null), true);
    assert.equal(metricsAccessAllowed(`Bearer ${token}`, token), true);
    assert.equal(metricsAccessAllowed(`bearer ${token}`, token), true);
    for (const bad of [undefined, null, '', token, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Basic ${token}`, 'Bearer ', `Bearer ${token} extra`]) {
      assert.equal(metricsAccessAllowed(bad, token), false, String(bad));
    }
  });
});
