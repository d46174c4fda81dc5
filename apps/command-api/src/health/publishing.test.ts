import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM } from '@eventcast/events';
import { register, startHarness, type Harness } from '../test-support/harness.js';

describe('event publishing', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('publishes every appended event to JetStream', async () => {
    await register(h, 'peggy');
    const stored = (await h.allEvents()).length;
    const nc = await connect({ servers: h.nats.url });
    try {
      let messages = 0;
      for (let i = 0; i < 50 && messages < stored; i++) {
        const reply = await nc.request(`$JS.API.STREAM.INFO.${EVENTS_JETSTREAM}`, '', { timeout: 2000 });
        messages = (reply.json<{ state?: { messages: number } }>().state?.messages ?? 0);
        if (messages < stored) await sleep(100);
      }
      assert.equal(messages, stored);
    } finally {
      await nc.close();
    }
  });
});
