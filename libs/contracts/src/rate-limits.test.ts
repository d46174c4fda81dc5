import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RATE_LIMITS, parseRateLimits, rateLimitedMessage, windowInWords } from './rate-limits.js';

describe('RATE_LIMITS', () => {
  it('keeps the defaults when unset: auth 100 per 15 minutes, api 1200 per minute', () => {
    assert.deepEqual(parseRateLimits(undefined), { budgets: { ...DEFAULT_RATE_LIMITS }, routes: {} });
    assert.deepEqual(DEFAULT_RATE_LIMITS.auth, { limit: 100, windowSeconds: 900 });
  });
  it('reads named budgets and route budgets with s, m and h windows', () => {
    const c = parseRateLimits(' auth=10/5m , api = 50/s, POST /clips=30/1h,PUT /me/channel=5/30s');
    assert.deepEqual(c.budgets, { auth: { limit: 10, windowSeconds: 300 }, api: { limit: 50, windowSeconds: 1 } });
    assert.deepEqual(c.routes, { 'POST /clips': { limit: 30, windowSeconds: 3600 }, 'PUT /me/channel': { limit: 5, windowSeconds: 30 } });
  });
  it('refuses malformed entries, zero limits and windows, unknown budgets and methods, naming the entry', () => {
    for (const bad of ['auth', 'auth=10', 'auth=10/5d', 'auth=0/1m', 'auth=5/0m', 'chat=5/1m', 'FETCH /x=1/1m', 'POST clips=1/1m', 'auth=-1/1m', 'auth=1e3/1m']) {
      assert.throws(() => parseRateLimits(bad), (e: Error) => e.message.includes('RATE_LIMITS'), bad);
    }
  });
  it('says the window and the wait in words', () => {
    assert.equal(windowInWords(900), '15 minutes');
    assert.equal(windowInWords(60), 'minute');
    assert.equal(windowInWords(3600), 'hour');
    assert.equal(windowInWords(45), '45 seconds');
    assert.equal(rateLimitedMessage({ limit: 100, windowSeconds: 900 }, 0.2, true), 'Too many sign-in and sign-up attempts from your network: 100 per 15 minutes are allowed. Try again in 1 second.');
  });
});
