/**
 * Rate limits over HTTP (issue 13 item 10; docs/contracts.md "Rate limits"): the IETF draft's `RateLimit-*` fields,
 * 429 with `Retry-After` and a sentence, per-route budgets, counters shared by two command-api processes through the
 * real Redis, and an unreachable Redis (each process counts by itself, nothing fails).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseRateLimits, rateLimitedMessage } from '@eventcast/contracts';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

describe('rate limits: headers, budgets and routes', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_LIMITS: parseRateLimits('auth=3/15m, api=6/1m, POST /channels/:username/chat/messages=2/1m') });
  });
  after(async () => {
    await h.stop();
  });

  it('answers RateLimit-Limit/Remaining/Reset/Policy on a counted route, and 429 with Retry-After past the budget', async () => {
    const { token } = await register(h, 'rl_alice');
    const seen: { status: number; limit: string | null; remaining: string | null; reset: string | null; policy: string | null }[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await h.http('GET', '/me', undefined, bearer(token));
      seen.push({ status: r.status, limit: r.headers.get('ratelimit-limit'), remaining: r.headers.get('ratelimit-remaining'), reset: r.headers.get('ratelimit-reset'), policy: r.headers.get('ratelimit-policy') });
      if (i === 0) assert.equal(r.headers.get('x-ratelimit-limit'), null, 'the draft names, not X-RateLimit-*');
    }
    assert.deepEqual(seen.map((s) => s.status), [200, 200, 200, 200, 200, 200, 429]);
    assert.deepEqual(seen.map((s) => s.remaining), ['5', '4', '3', '2', '1', '0', '0']);
    assert.ok(seen.every((s) => s.limit === '6' && s.policy === '6;w=60'));
    const reset = Number(seen[0]!.reset);
    assert.ok(reset >= 1 && reset <= 60, `RateLimit-Reset ${seen[0]!.reset}`);
    const refused = await h.http('GET', '/me', undefined, bearer(token));
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60);
    assert.equal(refused.body['message'], rateLimitedMessage({ limit: 6, windowSeconds: 60 }, retryAfter, false));
    assert.match(String(refused.body['message']), /^Too many requests from your network: 6 per minute are allowed\. Try again in \d+ seconds?\.$/);
    // probes and scrapes are outside every budget
    for (const path of ['/health', '/ready', '/metrics']) assert.equal((await fetch(`http://127.0.0.1:${h.api.port}${path}`)).status, 200, path);
    // a route with a budget of its own is not refused with `api`: two sends, then 429 on its own budget
    const sends = [];
    for (let i = 0; i < 3; i++) sends.push(await h.http('POST', '/channels/rl_alice/chat/messages', { text: `hello ${i}` }, bearer(token)));
    assert.deepEqual(sends.map((r) => r.status), [201, 201, 429]);
    assert.equal(sends[2]!.headers.get('ratelimit-policy'), '2;w=60');
  });

  it('counts the password routes in `auth`, per 15 minutes (register spent one of the 3)', async () => {
    const login = () => h.http('POST', '/auth/login', { username: 'nobody', password: 'wrong password' });
    assert.deepEqual([(await login()).status, (await login()).status], [401, 401]);
    const refused = await login();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('ratelimit-policy'), '3;w=900');
    assert.match(String(refused.body['message']), /^Too many sign-in and sign-up attempts from your network: 3 per 15 minutes are allowed\./);
  });
});

describe('rate limits: one budget across two command-api processes (Redis)', () => {
  const prefix = `test:shared:${randomUUID()}`;
  const budgets = parseRateLimits('auth=4/1m, api=100000/1m');
  let a: Harness;
  let b: Harness;
  before(async () => {
    a = await startHarness({ RATE_LIMITS: budgets, RATE_LIMIT_KEY_PREFIX: prefix });
    b = await startHarness({ RATE_LIMITS: budgets, RATE_LIMIT_KEY_PREFIX: prefix });
  });
  after(async () => {
    await a.stop();
    await b.stop();
  });

  it('a client alternating between the processes is refused after the budget in total', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await (i % 2 === 0 ? a : b).http('POST', '/auth/login', { username: 'nobody', password: 'wrong password' })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429]);
  });
});

describe('rate limits while Redis is unreachable', () => {
  let h: Harness;
  before(async () => {
    // A port nothing listens on: every Redis call fails at once.
    h = await startHarness({ REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMITS: parseRateLimits('auth=2/1m, api=100000/1m') });
  });
  after(async () => {
    await h.stop();
  });

  it('serves every request and still limits, per process', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.http('POST', '/auth/login', { username: 'nobody', password: 'wrong password' })).status);
    assert.deepEqual(statuses, [401, 401, 429]);
    assert.equal((await h.http('GET', '/health')).status, 200);
  });
});

describe('rate limits: HEAD counts in the GET route\'s budget', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ RATE_LIMITS: parseRateLimits('auth=1000/1m, api=100000/1m, GET /me=2/1m') });
  });
  after(async () => {
    await h.stop();
  });
  it('GET, HEAD, GET of a route with its own budget of 2: the third is refused', async () => {
    const { token } = await register(h, 'rl_head');
    const url = `http://127.0.0.1:${h.api.port}/me`;
    const statuses = [];
    for (const method of ['GET', 'HEAD', 'GET']) statuses.push((await fetch(url, { method, headers: bearer(token) })).status);
    assert.deepEqual(statuses, [200, 200, 429]);
  });
});

describe('rate limits while Redis accepts connections but never answers', () => {
  let h: Harness;
  let blackhole: Server;
  before(async () => {
    blackhole = createServer(() => undefined); // accepts, reads nothing, answers nothing
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as { port: number }).port;
    h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMITS: parseRateLimits('auth=2/1m, api=100000/1m') });
  });
  after(async () => {
    await h.stop();
    blackhole.close();
  });
  it('answers within a second and still limits, per process, and says so in the log', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      statuses.push((await h.http('POST', '/auth/login', { username: 'nobody', password: 'wrong password' })).status);
      assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
    }
    assert.deepEqual(statuses, [401, 401, 429]);
    assert.ok(h.logs.some((l) => l.includes('rate limits counted per process')), 'the fallback is logged');
  });
});
