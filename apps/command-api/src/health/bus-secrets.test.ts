/**
 * No credential material on the bus (ARCHITECTURE.md invariant 9, issue 9 item 3): the command API runs on a private
 * NATS with the platform's authorization model (it connects as `command-api`), and after register, stream-key reveal,
 * rotation, API token creation, webhook registration and a restream target, the raw contents of the JetStream stream (bodies and headers)
 * hold none of the password hash, key hashes, key ciphertexts, token hash, webhook secret ciphertext or webhook URL,
 * nor any plaintext secret — while the event store holds them all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENT_REDACTED_HEADER, WIRE_REDACTED_PROPERTY } from '@eventcast/contracts';
import { CREDENTIAL_FIELDS, EVENTS_JETSTREAM, type EventType } from '@eventcast/events';
import { waitFor } from '@eventcast/platform';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

describe('the bus carries no credential material', () => {
  let h: Harness;
  let nc: NatsConnection;
  before(async () => {
    h = await startHarness({}, { natsAuth: true });
    nc = await connect({ servers: h.nats.url, user: h.nats.admin!.user, pass: h.nats.admin!.password });
  });
  after(async () => {
    await nc?.close();
    await h?.stop();
  });

  /** Every message of the events stream: raw body text and headers. */
  async function rawStream(): Promise<{ body: string; headers: Record<string, string> }[]> {
    const info = await (await jetstreamManager(nc)).streams.info(EVENTS_JETSTREAM);
    const consumer = await jetstream(nc).consumers.get(EVENTS_JETSTREAM);
    const out: { body: string; headers: Record<string, string> }[] = [];
    while (out.length < info.state.messages) {
      const m = await consumer.next({ expires: 2000 });
      if (!m) break;
      const headers: Record<string, string> = {};
      for (const [k, v] of m.headers ?? []) headers[k] = v.join(',');
      out.push({ body: m.string(), headers });
    }
    return out;
  }

  it('register, reveal, rotate, API token and webhook: JetStream holds no hash, ciphertext, URL or plaintext', async () => {
    const password = 'correct horse battery staple';
    const { token, id } = await register(h, 'bus_alice', password);
    const key = (await h.http<{ streamKey: string }>('GET', '/me/stream-key', undefined, bearer(token))).body.streamKey;
    const rotated = (await h.http<{ streamKey: string }>('POST', '/me/stream-key/rotate', undefined, bearer(token))).body.streamKey;
    const apiToken = await h.http<{ token: string }>('POST', '/me/integrations/tokens', { name: 'overlay', scopes: ['chat:read'] }, bearer(token));
    assert.equal(apiToken.status, 201, JSON.stringify(apiToken.body));
    const hookUrl = 'https://example.org/hooks/T000/B000/s3cr3t-path-token';
    const hook = await h.http<{ secret: string }>('POST', '/me/integrations/webhooks', { url: hookUrl, eventTypes: ['ChatMessageSent'] }, bearer(token));
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    assert.equal((await h.http('POST', `/channels/bus_alice/chat/messages`, { text: 'hello bus' }, bearer(token))).status, 201);
    // A restream target (issue 10 item 7): its key is sealed in the store and never on the bus, in clear or sealed.
    const restreamKey = 'live_sk_busTest_0123456789abcdef';
    const target = await h.http('POST', '/me/restream-targets', { name: 'Elsewhere', url: 'rtmp://live.example.org/app', streamKey: restreamKey }, bearer(token));
    assert.equal(target.status, 201, JSON.stringify(target.body));
    assert.ok(!JSON.stringify(target.body).includes(restreamKey), 'the key is not in the reply');

    const stored = await h.allEvents();
    await waitFor(async () => (await (await jetstreamManager(nc)).streams.info(EVENTS_JETSTREAM)).state.messages >= stored.length, 20_000, 'publisher caught up');

    // The actual credential values, as the store holds them.
    const secrets: string[] = [password, key, rotated, apiToken.body.token, hook.body.secret, hookUrl, restreamKey];
    for (const e of stored) {
      const fields = CREDENTIAL_FIELDS[e.type as EventType] ?? [];
      for (const f of fields) {
        const v = (e.data as Record<string, unknown>)[f];
        assert.equal(typeof v, 'string', `${e.type}.${f} is in the store`);
        secrets.push(v as string);
      }
    }
    const types = stored.map((e) => e.type);
    for (const t of ['AccountRegistered', 'StreamKeyIssued', 'StreamKeyRotated', 'ApiTokenCreated', 'WebhookRegistered', 'RestreamTargetAdded']) assert.ok(types.includes(t), t);
    assert.equal(secrets.length, 7 + 1 + 2 + 2 + 1 + 2 + 1, 'every credential value collected');

    const raw = await rawStream();
    assert.equal(raw.length, stored.length, 'every event reached JetStream');
    const dump = raw.map((m) => `${JSON.stringify(m.headers)}\n${m.body}`).join('\n');
    for (const s of secrets) assert.ok(!dump.includes(s), `credential material on the bus: ${s.slice(0, 12)}…`);

    // Redacted events say so, in the body and a header; the others are whole.
    for (const m of raw) {
      const body = JSON.parse(m.body) as Record<string, unknown>;
      const fields = CREDENTIAL_FIELDS[body['type'] as EventType];
      if (fields) {
        assert.deepEqual(body[WIRE_REDACTED_PROPERTY], fields, String(body['type']));
        assert.equal(m.headers[EVENT_REDACTED_HEADER], fields.join(','));
        for (const f of fields) assert.equal((body['data'] as Record<string, unknown>)[f], undefined);
      } else {
        assert.equal(body[WIRE_REDACTED_PROPERTY], undefined);
        assert.equal(m.headers[EVENT_REDACTED_HEADER], undefined);
      }
    }
    const registered = raw.map((m) => JSON.parse(m.body) as { type: string; data: Record<string, unknown> }).find((e) => e.type === 'AccountRegistered');
    assert.deepEqual(registered?.data, { accountId: id, username: 'bus_alice' }, 'non-credential fields still travel');
  });
});
