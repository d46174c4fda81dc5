import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadEdgeConfig } from './edge-config.js';
import { HeldMessages } from './held-messages.js';
import { IpRateLimiter } from './ip-limiter.js';
import { TokenBucket } from './token-bucket.js';

void test('token bucket: burst 10, then one token per 100 ms at 10/s', () => {
  const b = new TokenBucket(10, 10, 0);
  for (let i = 0; i < 10; i++) assert.equal(b.take(0), 0);
  assert.equal(b.take(0), 100);
  assert.equal(b.take(50), 50);
  assert.equal(b.take(100), 0);
  assert.equal(b.take(10_000), 0); // refills up to the capacity only
  for (let i = 0; i < 9; i++) assert.equal(b.take(10_000), 0);
  assert.ok(b.take(10_000) > 0);
});

void test('ip limiter: sliding window per IP, 0 disables', () => {
  let now = 0;
  const l = new IpRateLimiter(2, 10_000, () => now);
  assert.equal(l.tryAcquire('a'), 0);
  now = 4000;
  assert.equal(l.tryAcquire('a'), 0);
  assert.equal(l.tryAcquire('a'), 6000);
  assert.equal(l.tryAcquire('b'), 0);
  now = 10_000;
  assert.equal(l.tryAcquire('a'), 0);
  assert.equal(l.tryAcquire('a'), 4000);
  l.close();
  const off = new IpRateLimiter(0);
  for (let i = 0; i < 100; i++) assert.equal(off.tryAcquire('a'), 0);
  off.close();
});

void test('held messages: publish now, hold, drop by id and by channel, bounded', async () => {
  const out: string[] = [];
  const now = Date.now();
  const h = new HeldMessages((_ch, frame) => out.push(frame), { maxHeld: 3, maxHoldMs: 200 });
  assert.equal(h.offer('c', 'm0', now - 1, 'f0'), 'published');
  assert.equal(h.offer('c', 'm1', now + 60_000, 'f1'), 'held'); // capped at maxHoldMs
  assert.equal(h.offer('c', 'm2', now + 100, 'f2'), 'held');
  assert.equal(h.offer('d', 'm3', now + 100, 'f3'), 'held');
  assert.equal(h.offer('d', 'm4', now + 100, 'f4'), 'dropped');
  assert.equal(h.overflowDrops, 1);
  assert.ok(h.drop('m2'));
  assert.equal(h.dropChannel('d'), 1);
  assert.deepEqual(out, ['f0']);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(out, ['f0', 'f1']);
  assert.equal(h.size, 0);
  h.close();
});

void test('held messages: a ban or timeout drops only that sender’s pending messages in that channel', async () => {
  const out: string[] = [];
  const now = Date.now();
  const h = new HeldMessages((_ch, frame) => out.push(frame));
  h.offer('c', 'm1', now + 100, 'troll-1', 'troll');
  h.offer('c', 'm2', now + 100, 'fan-1', 'fan');
  h.offer('c', 'm3', now + 100, 'troll-2', 'troll');
  h.offer('other', 'm4', now + 100, 'troll-elsewhere', 'troll');
  assert.equal(h.dropSender('c', 'troll'), 2);
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(out.sort(), ['fan-1', 'troll-elsewhere']);
  h.close();
});

void test('edge config: REALTIME_CHAT_SENDS_PER_S sets the chat.send rate per connection (default 10/s)', () => {
  assert.equal(loadEdgeConfig({}).REALTIME_CHAT_SENDS_PER_S, 10);
  assert.equal(loadEdgeConfig({ REALTIME_CHAT_SENDS_PER_S: '250' }).REALTIME_CHAT_SENDS_PER_S, 250);
  assert.equal(loadEdgeConfig({ REALTIME_CHAT_SENDS_PER_S: '0' }).REALTIME_CHAT_SENDS_PER_S, 10);
  assert.throws(() => loadEdgeConfig({ REALTIME_CHAT_SENDS_PER_S: '-1' }), /REALTIME_CHAT_SENDS_PER_S/);
});
