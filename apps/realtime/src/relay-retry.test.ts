/**
 * The relay's retry policy (nextRelayRetry): a consumer that attaches and ends at once, again and again, is re-made
 * with a growing delay instead of back to back; one that lived at least 1 s is re-made at once and resets the backoff.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRelayRetry, RELAY_HEALTHY_CONSUMER_MS } from './relay.js';

describe('relay retry policy', () => {
  it('backs off a consumer that ends right after attaching, and resets after one that lived', () => {
    const waits: number[] = [];
    let backoff = 0;
    for (let i = 0; i < 6; i++) {
      const next = nextRelayRetry(backoff, 5, 1000);
      waits.push(next.wait);
      backoff = next.backoff;
    }
    assert.deepEqual(waits, [100, 200, 400, 800, 1000, 1000], 'attached for 5 ms each time: exponential backoff, capped');
    assert.deepEqual(nextRelayRetry(backoff, RELAY_HEALTHY_CONSUMER_MS, 1000), { wait: 0, backoff: 0 }, 'lived 1 s: at once');
    assert.deepEqual(nextRelayRetry(0, null, 1000), { wait: 100, backoff: 100 }, 'never attached: the short delay first');
    assert.deepEqual(nextRelayRetry(800, null, 1000), { wait: 1000, backoff: 1000 });
  });
});
