/**
 * The platform's NATS authorization model on a real nats-server (ARCHITECTURE.md invariant 9, docs/contracts.md
 * "NATS: users, permissions, wire form"): anonymous and wrong-password clients are refused; each app's user can do its
 * job (request/reply, JetStream publish, durable and ordered consumers); the realtime edge's user cannot reach
 * `ingest.*`, the events subjects, stream management or query-api's durable consumers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { natsInboxPrefix, type NatsAppUser } from '@eventcast/contracts';
import { CommandPatterns, EVENTS_JETSTREAM } from '@eventcast/events';
import { natsEnvFor } from './nats-config.js';
import { startPrivateNats, type PrivateNatsServer } from './nats-server.js';

let nats: PrivateNatsServer;
const open: NatsConnection[] = [];

/** Connects as `app` with its own inbox prefix (as `natsConnectionOptions` of @eventcast/platform does). */
async function as(app: NatsAppUser | 'admin'): Promise<NatsConnection> {
  const c = app === 'admin' ? nats.admin! : nats.credentials![app];
  const nc = await connect({
    servers: nats.url,
    user: c.user,
    pass: c.password,
    ...(app === 'admin' ? {} : { inboxPrefix: natsInboxPrefix(app) }),
    reconnect: false,
  });
  open.push(nc);
  return nc;
}

/** Permission violations the server reported to `nc` (collected in the background). */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error.name === 'PermissionViolationError') seen.push(s.error.message);
    }
  })();
  return seen;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  nats = await startPrivateNats({ auth: true });
  const admin = await as('admin');
  await (await jetstreamManager(admin)).streams.add({ name: EVENTS_JETSTREAM, subjects: ['eventcast.events.>'] });
});

after(async () => {
  for (const nc of open) await nc.close().catch(() => undefined);
  await nats?.dispose();
});

describe('NATS authentication', () => {
  it('refuses an anonymous client and a wrong password', async () => {
    await assert.rejects(connect({ servers: nats.url, reconnect: false }), (e: Error) => /Authorization/i.test(`${e.name} ${e.message}`));
    await assert.rejects(
      connect({ servers: nats.url, user: 'realtime', pass: 'not-the-password', reconnect: false }),
      (e: Error) => /Authorization/i.test(`${e.name} ${e.message}`),
    );
    await assert.rejects(
      connect({ servers: nats.url, user: 'realtime', pass: nats.credentials!['ingest'].password, reconnect: false }),
      (e: Error) => /Authorization/i.test(`${e.name} ${e.message}`),
    );
  });

  it('writes a config file with no anonymous access and one user per app', () => {
    const conf = readFileSync(`${nats.storeDir}/nats.conf`, 'utf8');
    assert.doesNotMatch(conf, /no_auth_user/);
    for (const app of ['command-api', 'query-api', 'realtime', 'ingest']) assert.match(conf, new RegExp(`"user": "${app}"`));
  });
});

describe('NATS permissions per app', () => {
  it('ingest and realtime reach the command side; command-api answers through allow_responses', async () => {
    const command = await as('command-api');
    for (const p of [CommandPatterns.AuthorizePublish, CommandPatterns.ChatSend, CommandPatterns.BroadcastRecorded]) {
      command.subscribe(p, { queue: 'command-api', callback: (_e, m) => void m.respond(JSON.stringify({ ok: p })) });
    }
    await command.flush();
    const ingest = await as('ingest');
    const realtime = await as('realtime');
    assert.deepEqual((await ingest.request(CommandPatterns.AuthorizePublish, '{}', { timeout: 2000 })).json(), { ok: CommandPatterns.AuthorizePublish });
    assert.deepEqual((await realtime.request(CommandPatterns.ChatSend, '{}', { timeout: 2000 })).json(), { ok: CommandPatterns.ChatSend });
    // Recordings (issue 11): the ingest reports a finished recording; the edge may not.
    assert.deepEqual((await ingest.request(CommandPatterns.BroadcastRecorded, '{}', { timeout: 2000 })).json(), { ok: CommandPatterns.BroadcastRecorded });
    await assert.rejects(realtime.request(CommandPatterns.BroadcastRecorded, '{}', { timeout: 1000 }));
  });

  it('the realtime edge cannot publish ingest.*, events, nor subscribe to commands or other inboxes', async () => {
    const admin = await as('admin');
    const got: string[] = [];
    const sub = admin.subscribe('>', {
      callback: (_e, m) => {
        if (!m.subject.startsWith('$JS.') && !m.subject.startsWith('_INBOX')) got.push(m.subject);
      },
    });
    await admin.flush();
    const realtime = await as('realtime');
    const denied = violations(realtime);
    realtime.publish(CommandPatterns.AuthorizePublish, '{}');
    realtime.publish(CommandPatterns.BroadcastStart, '{}');
    realtime.publish('eventcast.events.account.AccountRegistered', '{}');
    realtime.publish(`${natsInboxPrefix('ingest')}.x.y`, '{}');
    await realtime.flush();
    await sleep(300);
    assert.deepEqual(got, [], 'nothing the edge may not send arrived');
    assert.equal(denied.length, 4, denied.join('\n'));

    for (const subject of [CommandPatterns.ChatSend, 'ingest.>', 'eventcast.events.>', `${natsInboxPrefix('command-api')}.>`, '>']) {
      const edge = await as('realtime');
      const errs = violations(edge);
      edge.subscribe(subject);
      await edge.flush();
      await sleep(100);
      assert.equal(errs.length, 1, `subscribe ${subject}: ${errs.join('; ')}`);
    }
    sub.unsubscribe();
  });

  it('the realtime edge cannot manage the stream nor touch query-api consumers, but can read with an ordered consumer', async () => {
    const command = await as('command-api');
    const js = jetstream(command);
    await js.publish('eventcast.events.chat.ChatMessageSent', JSON.stringify({ n: 1 }));

    const query = await as('query-api');
    const jsmQ = await jetstreamManager(query);
    await jsmQ.consumers.add(EVENTS_JETSTREAM, { durable_name: 'query-api-projections', name: 'query-api-projections', ack_policy: AckPolicy.Explicit });
    const durable = await jetstream(query).consumers.get(EVENTS_JETSTREAM, 'query-api-projections');
    const m = await durable.next({ expires: 2000 });
    assert.ok(m, 'query-api pulls from its durable consumer');
    m.ack();
    await assert.rejects(jsmQ.streams.delete(EVENTS_JETSTREAM), 'query-api cannot delete the stream');

    const realtime = await as('realtime');
    const ordered = await jetstream(realtime).consumers.get(EVENTS_JETSTREAM);
    const first = await ordered.next({ expires: 2000 });
    assert.deepEqual(first?.json(), { n: 1 }, 'the edge reads the stream with an ordered consumer');
    // One channel's events (the edge's per-channel interest) and single messages (a new channel's start position).
    await js.publish('eventcast.events.chat.alice.ChatMessageSent', JSON.stringify({ n: 2 }));
    const filtered = await jetstream(realtime).consumers.get(EVENTS_JETSTREAM, { filter_subjects: 'eventcast.events.*.alice.*' });
    assert.deepEqual((await filtered.next({ expires: 2000 }))?.json(), { n: 2 }, 'the edge reads one channel with a filtered ordered consumer');
    const last = await (await jetstreamManager(realtime)).streams.getMessage(EVENTS_JETSTREAM, { seq: 2 });
    assert.deepEqual(last?.json(), { n: 2 }, 'the edge reads a single message');

    const jsmR = await jetstreamManager(realtime, { timeout: 1500 });
    await assert.rejects(jsmR.streams.delete(EVENTS_JETSTREAM));
    await assert.rejects(jsmR.streams.purge(EVENTS_JETSTREAM));
    await assert.rejects(jsmR.streams.add({ name: 'EDGE_STREAM', subjects: ['edge.>'] }));
    await assert.rejects(jsmR.consumers.delete(EVENTS_JETSTREAM, 'query-api-projections'));
    await assert.rejects(jsmR.consumers.info(EVENTS_JETSTREAM, 'query-api-projections'));
    await assert.rejects(jsmR.consumers.add(EVENTS_JETSTREAM, { durable_name: 'query-api-projections', ack_policy: AckPolicy.Explicit, deliver_policy: undefined }));
    const edgeJs = jetstream(realtime, { timeout: 1500 });
    await assert.rejects(edgeJs.publish('eventcast.events.chat.ChatMessageSent', JSON.stringify({ forged: true })));

    const admin = await as('admin');
    const info = await (await jetstreamManager(admin)).streams.info(EVENTS_JETSTREAM);
    assert.equal(info.state.messages, 2, 'the stream is intact: no forged event');
    await (await jetstreamManager(admin)).consumers.info(EVENTS_JETSTREAM, 'query-api-projections');
  });

  it('ingest can do nothing but its own requests', async () => {
    const ingest = await as('ingest');
    const denied = violations(ingest);
    ingest.publish(CommandPatterns.ChatSend, '{}');
    ingest.publish('eventcast.events.chat.ChatMessageSent', '{}');
    ingest.publish(`$JS.API.STREAM.INFO.${EVENTS_JETSTREAM}`, '');
    await ingest.flush();
    await sleep(200);
    assert.equal(denied.length, 3, denied.join('\n'));
  });
});

describe('natsEnvFor (the launcher)', () => {
  it('hands each app only its own NATS user and password, and the web app none', () => {
    const shared = { ...nats.secretsEnv(), DATABASE_URL: 'postgres://x' };
    const realtime = natsEnvFor('realtime', shared);
    assert.deepEqual([realtime['NATS_USER'], realtime['NATS_PASSWORD']], ['realtime', nats.credentials!['realtime'].password]);
    assert.equal(realtime['DATABASE_URL'], 'postgres://x');
    assert.equal(realtime['NATS_URL'], nats.url);
    for (const other of ['command-api', 'query-api', 'ingest'] as const) assert.ok(!Object.values(realtime).includes(nats.credentials![other].password));
    const web = natsEnvFor('web', shared);
    assert.equal(web['NATS_USER'], undefined);
    assert.ok(!Object.keys(web).some((k) => k.startsWith('NATS_PASSWORD')));
  });
});
