/**
 * Admin queries against real PostgreSQL and JetStream (issue 4 part 6): the `admin_audit_log` projection (exact rows,
 * names of revoked tokens and deleted webhooks, no secrets) and its rebuild equality (one event per transaction, one
 * batch, the live JetStream path, a catch-up rebuild); then `/admin/*`: 401/403/200, the merged audit trail with
 * keyset paging and categories, the projection status with lag, live broadcasts joined with an ingest node's health
 * (an HTTP server answering the ingest's `/admin/health` contract, which checks that the admin's token is forwarded),
 * with the ingest down, and with nodes answering something else than the contract (reported, the others still read).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { adminBroadcastsSchema, type IngestHealthReport, type PackagerStatus } from '@eventcast/contracts';
import { JwtService } from '@nestjs/jwt';
import { REDACTED, streams, type EventData, type EventType, type RecordedEvent } from '@eventcast/events';
import { createTestDatabase, loadConfig, type TestDatabase } from '@eventcast/platform';
import type { AdminBroadcastsDto, AuditPageDto, ProjectionsStatusDto } from './admin/admin.dto.js';
import { bootstrapQueryApi, type RunningQueryApi } from './bootstrap.js';
import { createProjections, createReadModelDb, AuditProjection } from '@eventcast/read-models';
import { createTestBus, rebuiltThreeWays, testConfig, testLogger, waitFor, type TestBus } from './testing/harness.js';
import { MEDIA, MemoryEventLog } from '@eventcast/read-models/testing';

/** The in-memory log plus the head the status report needs (the PostgreSQL store's `headPosition`). */
class HeadedLog extends MemoryEventLog {
  headPosition(): Promise<bigint> {
    return Promise.resolve(this.events.at(-1)?.globalPosition ?? 0n);
  }
}

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA';
const KEY_HASH = 'a'.repeat(64);
const TOKEN_HASH = 'b'.repeat(64);
const alice = { id: randomUUID(), username: 'ad_alice' };
const bob = { id: randomUUID(), username: 'ad_bob' };
const root = { id: randomUUID(), username: 'ad_root' };
const broadcastId = randomUUID();
const tokenId = randomUUID();
const webhookId = randomUUID();
/** A Slack-style webhook URL: its path and query are the credential. */
const WEBHOOK_SECRET_PART = 'T0001/B0002/xoxs3cr3tW3bh00kT0k3n';
const WEBHOOK_URL = `https://hooks.example.org/services/${WEBHOOK_SECRET_PART}?sig=abc123`;
const keyIds = [randomUUID(), randomUUID()] as const;

/** Accounts, keys, a refused publish, integrations and moderation; alice is live at the end. */
function scenario(log: MemoryEventLog): void {
  const add = <T extends EventType>(stream: string, type: T, data: EventData<T>, actorId?: string): RecordedEvent => {
    const e = log.append(stream, type, data);
    if (actorId) e.metadata = { actorId, correlationId: randomUUID() };
    return e;
  };
  for (const u of [alice, bob, root]) add(streams.account(u.id), 'AccountRegistered', { accountId: u.id, username: u.username, passwordHash: HASH });
  const key = (keyId: string) => ({ channelId: alice.id, keyId, keyHash: KEY_HASH, keyCiphertext: 'iv.tag.ciphertext-of-the-key' });
  add(streams.account(alice.id), 'StreamKeyIssued', key(keyIds[0]), alice.id);
  add(streams.account(alice.id), 'ChannelInfoUpdated', { channelId: alice.id, username: alice.username, title: 'Speedruns', category: 'Games' }, alice.id);
  add(streams.ingest(alice.id), 'PublishRejected', { channelId: alice.id, reason: 'invalid_key', remoteAddress: '203.0.113.7' });
  add(streams.ingest(null), 'PublishRejected', { channelId: null, reason: 'malformed_key', remoteAddress: '203.0.113.8' });
  add(streams.account(alice.id), 'StreamKeyRotated', { ...key(keyIds[1]), previousKeyId: keyIds[0] }, alice.id);
  const integrations = streams.integrations(alice.id);
  add(integrations, 'ApiTokenCreated', { channelId: alice.id, tokenId, name: 'chat bot', scopes: ['chat:send'], botName: 'alice_bot', tokenHash: TOKEN_HASH, prefix: 'ect_abcd' }, alice.id);
  add(integrations, 'WebhookRegistered', { channelId: alice.id, webhookId, url: WEBHOOK_URL, eventTypes: ['BroadcastStarted'], secretCiphertext: 'iv.tag.secret-ciphertext' }, alice.id);
  const room = { channelId: alice.id, username: alice.username, moderatorId: alice.id, moderatorName: alice.username };
  add(streams.chat(alice.id), 'ChatUserBanned', { ...room, userId: bob.id, userName: bob.username, reason: 'spam' }, alice.id);
  add(integrations, 'ApiTokenRevoked', { channelId: alice.id, tokenId, revokedAt: '2026-11-22T12:00:30.000Z' }, alice.id);
  add(integrations, 'WebhookDisabled', { channelId: alice.id, webhookId }, alice.id);
  add(integrations, 'WebhookDeleted', { channelId: alice.id, webhookId }, alice.id);
  add(streams.chat(alice.id), 'ChatModeratorAdded', { ...room, userId: root.id, userName: root.username }, alice.id);
  add(streams.broadcast(alice.id), 'BroadcastStarted', { broadcastId, channelId: alice.id, username: alice.username, startedAt: '2026-11-22T12:05:00.000Z', media: MEDIA });
}

async function dumpAudit(url: string) {
  const { db, root: pool } = createReadModelDb(url, 1);
  try {
    return {
      rows: await db.selectFrom('admin_audit_log').selectAll().orderBy('global_position').execute(),
      checkpoint: (await db.selectFrom('projection_checkpoints').select('position').where('name', '=', 'admin-audit').executeTakeFirst())?.position,
    };
  } finally {
    await pool.destroy();
  }
}

/** The packager alice's channel has on the ingest double: re-encoding, with the reason for the streamer. */
const PACKAGER: PackagerStatus = {
  running: true,
  restarts: 1,
  progress: null,
  mode: 'reencode',
  modeReason: 'keyframe interval above 2 s: no keyframe for 6.1 s; set Keyframe Interval to 1 or 2 s in OBS (Settings → Output → Advanced)',
  renditions: ['source', '480p'],
  parts: 120,
  malformed: 0,
  restartsTotal: 2,
  droppedFramesTotal: 0,
};

/** What the ingest double reports: alice live on node `ingestId` (a valid `GET /admin/health` body). */
function healthReport(ingestId: string): IngestHealthReport {
  const input = { windowSeconds: 5, bitrateKbps: 2650.5, videoBitrateKbps: 2500.1, audioBitrateKbps: 150.4, fps: 30, keyframeIntervalSeconds: 6, maxKeyframeIntervalSeconds: 6.1, secondsSinceKeyframe: 1.2, videoFrames: 900, keyframes: 6, secondsSinceLastPacket: 0 };
  return {
    ingestId,
    at: new Date().toISOString(),
    channels: [{ channelId: alice.id, username: alice.username, broadcastId, connected: true, publishingSince: '2026-11-22T12:05:00.000Z', media: MEDIA, input, packager: PACKAGER }],
  };
}

/**
 * An HTTP server speaking the ingest's `GET /admin/health` contract; it answers only when `accepts(bearer token)`,
 * with `body()` (by default {@link healthReport} of `ingest-a`) as JSON.
 */
async function startIngestDouble(accepts: (token: string) => boolean, body: () => unknown = () => healthReport('ingest-a')): Promise<{ url: string; close(): Promise<void>; calls: number }> {
  const state = { calls: 0 };
  const server = http.createServer((req, res) => {
    state.calls += 1;
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    if (req.url !== '/admin/health' || !accepts(bearer)) {
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ statusCode: 403, error: 'Forbidden', message: 'only platform admins' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get calls() {
      return state.calls;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

void describe('admin', () => {
  const log = new HeadedLog();
  scenario(log);
  const jwt = new JwtService({ secret: loadConfig({}).JWT_SECRET });
  const token = (u: { id: string; username: string }) => jwt.sign({ sub: u.id, username: u.username });
  const dbs: TestDatabase[] = [];
  const newDb = async () => {
    const d = await createTestDatabase('qa_test');
    dbs.push(d);
    return d;
  };
  let liveLog: HeadedLog;
  let bus: TestBus;
  let api: RunningQueryApi;
  let liveDb: TestDatabase;
  let base: string;
  let ingest: Awaited<ReturnType<typeof startIngestDouble>>;
  let previousAdmins: string | undefined;
  const get = (path: string, who?: { id: string; username: string } | string) =>
    fetch(`${base}${path}`, who ? { headers: { Authorization: `Bearer ${typeof who === 'string' ? who : token(who)}` } } : {});

  void before(async () => {
    previousAdmins = process.env['EVENTCAST_ADMINS'];
    process.env['EVENTCAST_ADMINS'] = `someone_else, ${root.username.toUpperCase()}`;
    ingest = await startIngestDouble((t) => {
      try {
        return jwt.verify<{ username: string }>(t).username === root.username;
      } catch {
        return false;
      }
    });
    liveLog = new HeadedLog();
    bus = await createTestBus();
    liveDb = await newDb();
    api = await bootstrapQueryApi({ ...testConfig(liveDb, bus, liveLog), ingestUrls: [ingest.url, 'http://127.0.0.1:9'] }, testLogger());
    base = `http://127.0.0.1:${api.port}`;
    for (const e of log.events) {
      liveLog.events.push(e);
      await bus.publish(e);
    }
    const head = log.events.at(-1)!.globalPosition;
    await waitFor(async () => (await api.runner.position()) >= head, 15_000, 'live projection');
  });

  void after(async () => {
    await api?.close();
    await bus?.close();
    await ingest?.close();
    for (const d of dbs) await d.drop().catch(() => undefined);
    if (previousAdmins === undefined) delete process.env['EVENTCAST_ADMINS'];
    else process.env['EVENTCAST_ADMINS'] = previousAdmins;
  });

  void test('the audit projection: one row per security event, target names carried over, no secrets', async () => {
    const { rows, checkpoint } = await dumpAudit(liveDb.url);
    assert.equal(checkpoint, log.events.at(-1)!.globalPosition.toString());
    assert.deepEqual(
      rows.map((r) => [r.category, r.action, r.channel_id, r.actor_id, r.target_name, r.reason]),
      [
        ['account', 'account_registered', alice.id, alice.id, alice.username, null],
        ['account', 'account_registered', bob.id, bob.id, bob.username, null],
        ['account', 'account_registered', root.id, root.id, root.username, null],
        ['account', 'stream_key_issued', alice.id, alice.id, null, null],
        ['ingest', 'publish_rejected', alice.id, null, null, 'invalid_key'],
        ['ingest', 'publish_rejected', null, null, null, 'malformed_key'],
        ['account', 'stream_key_rotated', alice.id, alice.id, null, null],
        ['integrations', 'api_token_created', alice.id, alice.id, 'chat bot', null],
        ['integrations', 'webhook_registered', alice.id, alice.id, REDACTED, null],
        ['integrations', 'api_token_revoked', alice.id, alice.id, 'chat bot', null],
        ['integrations', 'webhook_disabled', alice.id, alice.id, REDACTED, null],
        ['integrations', 'webhook_deleted', alice.id, alice.id, REDACTED, null],
      ],
    );
    const rotated = rows.find((r) => r.action === 'stream_key_rotated')!;
    assert.deepEqual(rotated.details, { keyId: keyIds[1], previousKeyId: keyIds[0] });
    const registered = rows.find((r) => r.action === 'webhook_registered')!;
    assert.deepEqual(registered.details, { eventTypes: ['BroadcastStarted'], host: 'hooks.example.org' }, 'only the host of the URL is kept');
    const text = JSON.stringify(rows);
    for (const secret of [KEY_HASH, TOKEN_HASH, 'ciphertext', HASH, WEBHOOK_SECRET_PART, 'sig=']) assert.ok(!text.includes(secret), `no ${secret} in the audit rows`);
  });

  void test('the same rows one event per transaction, in one batch, live from JetStream and rebuilt by catch-up', async () => {
    const live = await dumpAudit(liveDb.url);
    const [one, all, rebuilt] = await rebuiltThreeWays({ projection: new AuditProjection(), log, bus, catchUpBatchSize: 3 }, newDb, dumpAudit);
    assert.deepEqual(one, live);
    assert.deepEqual(all, live);
    assert.deepEqual(rebuilt, live);
  });

  void test('401 without or with a bad token, 403 for a non-admin, 200 for an admin (case-insensitive)', async () => {
    for (const path of ['/admin/projections', '/admin/audit', '/admin/broadcasts']) {
      const none = await get(path);
      assert.equal(none.status, 401, path);
      assert.match(((await none.json()) as { message: string }).message, /missing bearer token/);
      const forged = new JwtService({ secret: 'not-the-secret-of-this-platform' }).sign({ sub: root.id, username: root.username });
      assert.equal((await get(path, forged)).status, 401, path);
      const user = await get(path, alice);
      assert.equal(user.status, 403, path);
      assert.match(((await user.json()) as { message: string }).message, /only platform admins/);
      assert.equal((await get(path, root)).status, 200, path);
    }
  });

  void test('GET /admin/projections: every projection at the head, lag 0, running', async () => {
    const res = await get('/admin/projections', root);
    const body = (await res.json()) as ProjectionsStatusDto;
    const head = log.events.at(-1)!.globalPosition.toString();
    assert.equal(body.head, head);
    assert.deepEqual(body.projections.map((p) => p.name), createProjections().map((p) => p.name));
    assert.ok(body.projections.some((p) => p.name === 'admin-audit'));
    for (const p of body.projections) {
      assert.equal(p.state, 'running', p.name);
      assert.equal(p.checkpoint, head, p.name);
      assert.equal(p.lagEvents, '0', p.name);
      assert.equal(p.lagSeconds, 0, p.name);
      assert.equal(p.rebuild, null);
    }
  });

  void test('GET /admin/audit: moderation and security merged newest first, keyset pages, categories, bad input', async () => {
    const full = (await (await get('/admin/audit?limit=200', root)).json()) as AuditPageDto;
    assert.equal(full.entries.length, 14, '12 security rows + 2 moderation rows');
    assert.equal(full.nextBefore, null);
    const positions = full.entries.map((e) => BigInt(e.globalPosition));
    assert.deepEqual(positions, [...positions].sort((a, b) => (a < b ? 1 : -1)), 'newest first');
    const ban = full.entries.find((e) => e.action === 'user_banned')!;
    assert.deepEqual(
      { category: ban.category, channel: ban.channel, actor: ban.actor, target: ban.target, reason: ban.reason },
      { category: 'moderation', channel: alice.username, actor: alice.username, target: bob.username, reason: 'spam' },
    );
    const rotated = full.entries.find((e) => e.action === 'stream_key_rotated')!;
    assert.equal(rotated.actor, alice.username, 'actor name resolved from the channels read model');
    assert.equal(rotated.channel, alice.username);
    const anonymous = full.entries.find((e) => e.reason === 'malformed_key')!;
    assert.equal(anonymous.channel, null);
    assert.equal(anonymous.actor, null);

    const paged: string[] = [];
    let before = '';
    for (let i = 0; i < 10; i++) {
      const page = (await (await get(`/admin/audit?limit=4${before ? `&before=${before}` : ''}`, root)).json()) as AuditPageDto;
      paged.push(...page.entries.map((e) => e.id));
      if (!page.nextBefore) break;
      before = page.nextBefore;
    }
    assert.deepEqual(paged, full.entries.map((e) => e.id), 'pages of 4 give the whole trail once, in order');

    const moderation = (await (await get('/admin/audit?category=moderation', root)).json()) as AuditPageDto;
    assert.deepEqual(moderation.entries.map((e) => e.action), ['moderator_added', 'user_banned']);
    const integrations = (await (await get('/admin/audit?category=integrations', root)).json()) as AuditPageDto;
    assert.equal(integrations.entries.length, 5);
    assert.ok(integrations.entries.every((e) => e.category === 'integrations'));
    // Webhook URLs often carry credentials: the admins' trail shows them redacted, as `eventcast-ops replay` does.
    const hooks = integrations.entries.filter((e) => e.action.startsWith('webhook_'));
    assert.deepEqual(hooks.map((e) => e.target), [REDACTED, REDACTED, REDACTED]);
    assert.ok(!JSON.stringify(full).includes(WEBHOOK_SECRET_PART), 'no webhook URL credential in GET /admin/audit');

    for (const bad of ['?limit=0', '?limit=201', '?limit=x', '?before=0', '?before=-3', '?category=nope']) {
      const res = await get(`/admin/audit${bad}`, root);
      assert.equal(res.status, 400, bad);
      assert.ok(((await res.json()) as { message: string }).message.length > 0);
    }
  });

  void test('GET /admin/broadcasts: live broadcasts joined with the ingest health; a down node is reported', async () => {
    // The reply is the contract's (what the web reads).
    const body = adminBroadcastsSchema.parse(await (await get('/admin/broadcasts', root)).json());
    assert.equal(body.broadcasts.length, 1);
    const b = body.broadcasts[0]!;
    assert.equal(b.broadcastId, broadcastId);
    assert.equal(b.username, alice.username);
    assert.equal(b.title, 'Speedruns');
    assert.equal(b.media?.width, 1280);
    assert.equal(b.health?.ingestId, 'ingest-a');
    assert.equal(b.health?.input?.keyframeIntervalSeconds, 6);
    assert.deepEqual(b.health?.packager, PACKAGER, 'the whole packager status is forwarded (mode, modeReason, renditions, …)');
    assert.equal(b.healthNote, null);
    assert.deepEqual(
      body.ingest.map((n) => [n.url, n.reachable, n.error === null]),
      [
        [ingest.url, true, true],
        ['http://127.0.0.1:9', false, false],
      ],
    );
  });

  void test('GET /admin/projections reports the lag of an event not yet delivered, then catches up', async () => {
    const late = liveLog.append(streams.account(bob.id), 'ChannelInfoUpdated', { channelId: bob.id, username: bob.username, title: 'late', category: '' });
    late.occurredAt = new Date(Date.now() - 30_000);
    const lagging = (await (await get('/admin/projections', root)).json()) as ProjectionsStatusDto;
    assert.equal(lagging.head, late.globalPosition.toString());
    for (const p of lagging.projections) {
      assert.equal(p.lagEvents, '1', p.name);
      assert.equal(p.checkpoint, (late.globalPosition - 1n).toString());
    }
    await bus.publish(late);
    await waitFor(
      async () => {
        const body = (await (await get('/admin/projections', root)).json()) as ProjectionsStatusDto;
        return body.projections.every((p) => p.lagEvents === '0');
      },
      10_000,
      'caught up',
    );
  });

  void test('GET /admin/broadcasts: a node answering something else than the contract is reported, never thrown; the others are read', async () => {
    const db = await newDb();
    // An older ingest without `mode` (the partial packager query-api used to rebuild), reporting alice after ingest-a.
    const drifted = await startIngestDouble(
      () => true,
      () => {
        const r = healthReport('ingest-b');
        const { mode: _mode, ...packager } = PACKAGER;
        return { ...r, channels: r.channels.map((c) => ({ ...c, packager })) };
      },
    );
    const notReport = await startIngestDouble(
      () => true,
      () => ({ status: 'ok' }),
    );
    const api2 = await bootstrapQueryApi({ ...testConfig(db, bus, log, `qa-test-${randomUUID().slice(0, 8)}`), ingestUrls: [ingest.url, drifted.url, notReport.url] }, testLogger());
    try {
      const res = await fetch(`http://127.0.0.1:${api2.port}/admin/broadcasts`, { headers: { Authorization: `Bearer ${token(root)}` } });
      assert.equal(res.status, 200);
      const body = adminBroadcastsSchema.parse(await res.json());
      assert.deepEqual(
        body.ingest.map((n) => [n.url, n.ingestId, n.reachable]),
        [
          [ingest.url, 'ingest-a', true],
          [drifted.url, null, true],
          [notReport.url, null, true],
        ],
      );
      assert.equal(body.ingest[0]?.error, null);
      assert.match(body.ingest[1]?.error ?? '', /^unexpected answer \(channels\.0\.packager\.mode: .+\)$/);
      assert.match(body.ingest[2]?.error ?? '', /^unexpected answer \(ingestId: .+\)$/);
      const b = body.broadcasts.find((x) => x.channelId === alice.id);
      assert.equal(b?.health?.ingestId, 'ingest-a', 'the drifted report of alice is dropped, the valid one kept');
      assert.deepEqual(b?.health?.packager, PACKAGER);
      assert.equal(b?.healthNote, null);
    } finally {
      await api2.close();
      await drifted.close();
      await notReport.close();
    }
  });

  void test('GET /admin/broadcasts with every ingest node down: health null with the reason', async () => {
    const db = await newDb();
    const down = await bootstrapQueryApi({ ...testConfig(db, bus, log, `qa-test-${randomUUID().slice(0, 8)}`), ingestUrls: ['http://127.0.0.1:9'] }, testLogger());
    try {
      const res = await fetch(`http://127.0.0.1:${down.port}/admin/broadcasts`, { headers: { Authorization: `Bearer ${token(root)}` } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as AdminBroadcastsDto;
      assert.equal(body.broadcasts.length, 1);
      assert.equal(body.broadcasts[0]?.health, null);
      assert.match(body.broadcasts[0]?.healthNote ?? '', /^ingest unavailable: http:\/\/127\.0\.0\.1:9: /);
      assert.equal(body.ingest[0]?.reachable, false);
    } finally {
      await down.close();
    }
  });
});
