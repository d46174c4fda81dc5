/**
 * `eventcast-ops projections rebuild|verify|status` against real PostgreSQL (and a private NATS for the live
 * projector): a blue/green rebuild under live traffic loses and duplicates nothing and never serves an empty read
 * model; a rebuild SIGKILLed half-way resumes and ends equal; verify catches a tampered read model.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { newEvent, streams, type NewEvent } from '@eventcast/events';
import type { ProjectionStatusReport } from '@eventcast/read-models';
import { chatHeavyMix, loadEvents } from './generate.js';
import { createStoreDb, runCli, spawnCli, startLiveSlice, waitFor, type LiveSlice, type StoreDb } from './test-support.js';

async function loadMix(s: StoreDb, events: number): Promise<void> {
  for (const batch of chatHeavyMix({ events, channels: 10, users: 300, batchSize: 5000 })) await loadEvents(s.store.pool, batch);
}

async function scalar(pool: pg.Pool, text: string): Promise<number> {
  const r = await pool.query<{ n: string }>(text);
  return Number(r.rows[0]?.n ?? 0);
}

const sentEvents = "SELECT count(*)::text AS n FROM eventstore.events WHERE type = 'ChatMessageSent'";

void describe('projections rebuild under live traffic', () => {
  let s: StoreDb;
  let slice: LiveSlice;
  const room = { id: randomUUID(), name: 'traffic_chan' };

  before(async () => {
    s = await createStoreDb();
    await loadMix(s, 15_000);
    await s.store.append(streams.account(room.id), [newEvent('AccountRegistered', { accountId: room.id, username: room.name, passwordHash: '$argon2id$v=19$x' })], 'no_stream');
    slice = await startLiveSlice(s.db.url, s.store);
  });
  after(async () => {
    await slice?.close();
    await s?.close();
  });

  void it('switches atomically: nothing lost or duplicated, the read model never empty, the projector carries on', { timeout: 240_000 }, async () => {
    const head0 = await s.store.headPosition();
    await waitFor(async () => (await slice.api.runner.position()) >= head0, 60_000, 'the live projector to catch up');

    // Live traffic: chat messages (and now and then a delete) appended through the real append path.
    let stop = false;
    const sent: string[] = [];
    const traffic = (async () => {
      while (!stop) {
        const id = randomUUID();
        const now = new Date().toISOString();
        const events: NewEvent[] = [
          newEvent('ChatMessageSent', { channelId: room.id, username: room.name, messageId: id, senderId: room.id, senderName: room.name, senderRole: 'owner', text: `live ${sent.length}`, maskedTerms: 0, sentAt: now, visibleAt: now }),
        ];
        if (sent.length % 10 === 9) {
          events.push(newEvent('ChatMessageDeleted', { channelId: room.id, username: room.name, moderatorId: room.id, moderatorName: room.name, messageId: sent[sent.length - 1]!, senderId: room.id, reason: 'tidy' }));
        }
        await s.store.append(streams.chat(room.id), events, 'any');
        sent.push(id);
        await new Promise((r) => setTimeout(r, 15));
      }
    })();

    // Readers: the live table and the HTTP history, polled all along.
    const readerPool = new pg.Pool({ connectionString: s.db.url, max: 2 });
    const counts: number[] = [];
    const problems: string[] = [];
    let polling = true;
    let historySeen = false;
    const poller = (async () => {
      while (polling) {
        try {
          counts.push(await scalar(readerPool, 'SELECT count(*)::text AS n FROM readmodels.chat_messages'));
          const res = await fetch(`${slice.base}/channels/${room.name}/chat/messages?limit=5`);
          const body = (await res.json()) as { messages?: unknown[] };
          const n = body.messages?.length ?? 0;
          if (res.status !== 200) problems.push(`HTTP ${res.status}`);
          else if (n > 0) historySeen = true;
          else if (historySeen) problems.push('empty chat history served after it had messages');
        } catch (err) {
          problems.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await waitFor(() => Promise.resolve(sent.length > 20), 20_000, 'some live traffic');
    // --parallel: the independent projections in two concurrent lanes of transactions.
    const r = await runCli(s.db.url, ['projections', 'rebuild', '--all', '--parallel', '--batch-size', '2000']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rebuilt .*chat-messages.*switched at position \d+/);
    const switchedAt = BigInt(/switched at position (\d+)/.exec(r.stdout)![1]!);
    const sentAtSwitch = sent.length;
    // The live projector keeps applying to the new tables without a restart.
    await waitFor(() => Promise.resolve(sent.length > sentAtSwitch + 20), 20_000, 'traffic after the switch');
    stop = true;
    await traffic;
    const head = await s.store.headPosition();
    assert.ok(head > switchedAt);
    await waitFor(async () => (await slice.api.runner.position()) >= head, 30_000, 'the live projector to reach the head after the switch');
    polling = false;
    await poller;
    await readerPool.end();

    assert.deepEqual(problems, []);
    assert.ok(historySeen, 'the chat history was served');
    assert.ok(counts.length > 10, `polled ${counts.length} times`);
    assert.ok(counts.every((c) => c > 0), 'the live chat_messages table was never empty');
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i]! >= counts[i - 1]!, `row count went back from ${counts[i - 1]} to ${counts[i]}`);
    assert.equal(await scalar(s.store.pool, 'SELECT count(*)::text AS n FROM readmodels.chat_messages'), await scalar(s.store.pool, sentEvents));
    assert.equal(await scalar(s.store.pool, 'SELECT count(DISTINCT global_position)::text AS n FROM readmodels.chat_messages'), await scalar(s.store.pool, sentEvents));
    const last = await s.store.pool.query('SELECT 1 FROM readmodels.chat_messages WHERE id = $1', [sent[sent.length - 1]]);
    assert.equal(last.rowCount, 1, 'a message sent after the switch is in the new table');
    const schemas = await s.store.pool.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'readmodels\\_%'");
    assert.deepEqual(schemas.rows, [], 'build and old schemas are dropped');

    const v = await runCli(s.db.url, ['projections', 'verify', '--all']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const st = await runCli(s.db.url, ['projections', 'status', '--json']);
    assert.equal(st.code, 0, st.stderr);
    const rows = JSON.parse(st.stdout) as ProjectionStatusReport[];
    assert.ok(rows.length >= 8);
    for (const row of rows) {
      assert.equal(row.state, 'running');
      assert.equal(row.lagEvents, '0');
      assert.equal(row.checkpoint, head.toString());
      assert.equal(row.rebuild, null);
    }
  });
});

void describe('projections rebuild killed half-way, and verify', () => {
  let s: StoreDb;
  const schema = 'readmodels_build_chat_messages_chat_rooms_moderation_log';

  before(async () => {
    s = await createStoreDb();
    await loadMix(s, 30_000);
  });
  after(async () => {
    await s?.close();
  });

  void it('a SIGKILLed rebuild leaves the live read model alone and resumes from its build checkpoint', { timeout: 240_000 }, async () => {
    const head = await s.store.headPosition();
    const child = spawnCli(s.db.url, ['projections', 'rebuild', 'chat-messages', '--batch-size', '250', '--progress']);
    const buildPosition = async () => {
      const exists = await s.store.pool.query(`SELECT to_regclass('${schema}.projection_checkpoints') IS NOT NULL AS ok`);
      if (!(exists.rows[0] as { ok: boolean }).ok) return 0;
      return scalar(s.store.pool, `SELECT coalesce(min(position), 0)::text AS n FROM ${schema}.projection_checkpoints`);
    };
    const reached = await waitFor(async () => {
      const p = await buildPosition();
      return p >= 3000 ? p : undefined;
    }, 60_000, 'the build to pass position 3000');
    child.kill('SIGKILL');
    const killed = await child.done;
    assert.notEqual(killed.code, 0);
    const stoppedAt = await buildPosition();
    assert.ok(stoppedAt >= reached && BigInt(stoppedAt) < head, `killed at ${stoppedAt} of ${head}`);
    assert.equal(await scalar(s.store.pool, 'SELECT count(*)::text AS n FROM readmodels.chat_messages'), 0, 'the live table is untouched');
    const status = JSON.parse((await runCli(s.db.url, ['projections', 'status', '--json'])).stdout) as ProjectionStatusReport[];
    const cm = status.find((x) => x.name === 'chat-messages');
    // Reported about once a second: the row shows a rebuild that has not failed (running, or interrupted once stale).
    assert.equal(cm?.state, 'rebuilding', JSON.stringify(cm));
    assert.ok(cm.rebuild && cm.rebuild.state === 'running' && cm.rebuild.head === head.toString(), JSON.stringify(cm));

    const again = await runCli(s.db.url, ['projections', 'rebuild', 'chat-messages']);
    assert.equal(again.code, 0, again.stderr);
    const resumedFrom = Number(/resumed from (\d+)/.exec(again.stdout)?.[1] ?? -1);
    assert.ok(resumedFrom >= stoppedAt, `resumed from ${resumedFrom}, build was at ${stoppedAt}: ${again.stdout}`);
    assert.equal(await scalar(s.store.pool, 'SELECT count(*)::text AS n FROM readmodels.chat_messages'), await scalar(s.store.pool, sentEvents));
    const v = await runCli(s.db.url, ['projections', 'verify', 'chat-messages']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /EQUAL/);
  });

  void it('SIGINT stops a rebuild between batches (exit 130), not marked failed, and a rerun resumes it', { timeout: 240_000 }, async () => {
    const followsSchema = 'readmodels_build_follows';
    const position = async () => {
      const ok = await s.store.pool.query(`SELECT to_regclass('${followsSchema}.projection_checkpoints') IS NOT NULL AS ok`);
      return (ok.rows[0] as { ok: boolean }).ok ? scalar(s.store.pool, `SELECT coalesce(min(position), 0)::text AS n FROM ${followsSchema}.projection_checkpoints`) : 0;
    };
    const child = spawnCli(s.db.url, ['projections', 'rebuild', 'follows', '--batch-size', '200']);
    await waitFor(async () => (await position()) >= 2000, 60_000, 'the follows build to pass position 2000');
    child.kill('SIGINT');
    const stopped = await child.done;
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /interrupted; a rebuild resumes where it stopped when rerun/);
    const at = await position();
    assert.ok(at >= 2000 && BigInt(at) < (await s.store.headPosition()));
    const status = JSON.parse((await runCli(s.db.url, ['projections', 'status', '--json'])).stdout) as ProjectionStatusReport[];
    const follows = status.find((x) => x.name === 'follows');
    assert.notEqual(follows?.rebuild?.state, 'failed', JSON.stringify(follows));
    const again = await runCli(s.db.url, ['projections', 'rebuild', 'follows']);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(Number(/resumed from (\d+)/.exec(again.stdout)?.[1] ?? -1) >= at, again.stdout);
    assert.equal((await runCli(s.db.url, ['projections', 'verify', 'follows'])).code, 0);
  });

  void it('verify exits 1 and prints the differing rows of a tampered read model; a rebuild repairs it', { timeout: 240_000 }, async () => {
    const target = await s.store.pool.query<{ id: string; text: string }>('SELECT id, text FROM readmodels.chat_messages ORDER BY global_position LIMIT 1');
    const { id, text } = target.rows[0]!;
    await s.store.pool.query("UPDATE readmodels.chat_messages SET text = 'tampered by hand' WHERE id = $1", [id]);
    await s.store.pool.query('DELETE FROM readmodels.moderation_log WHERE id = (SELECT id FROM readmodels.moderation_log ORDER BY id LIMIT 1)');
    const v = await runCli(s.db.url, ['projections', 'verify', 'moderation-log']);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /DIFFERENT/);
    assert.match(v.stdout, /chat_messages: .* 1 difference/);
    assert.match(v.stdout, /moderation_log: .* 1 difference/);
    assert.match(v.stdout, /tampered by hand/);
    assert.ok(v.stdout.includes(JSON.stringify(text)), 'the rebuilt row shows the original text');
    assert.match(v.stdout, /live: {4}\(missing\)/);
    const json = await runCli(s.db.url, ['projections', 'verify', 'chat-messages', '--json']);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.stdout) as { equal: boolean; tablesCompared: { table: string; differences: number; sample: { key: { id: string } }[] }[] };
    assert.equal(parsed.equal, false);
    assert.deepEqual(parsed.tablesCompared.find((t) => t.table === 'chat_messages')?.sample.map((d) => d.key.id), [id]);
    assert.equal(await scalar(s.store.pool, "SELECT count(*)::text AS n FROM pg_namespace WHERE nspname LIKE 'readmodels\\_verify%'"), 0, 'the scratch schema is dropped');

    const rebuilt = await runCli(s.db.url, ['projections', 'rebuild', 'moderation-log']);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const ok = await runCli(s.db.url, ['projections', 'verify', 'moderation-log']);
    assert.equal(ok.code, 0, ok.stdout);
  });

  void it('refuses unknown projections and a missing name with a usage error', async () => {
    const unknown = await runCli(s.db.url, ['projections', 'rebuild', 'no-such-projection']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown projection\(s\): no-such-projection \(known: .*chat-messages/);
    const none = await runCli(s.db.url, ['projections', 'verify']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name the projections to verify, or --all/);
    const list = await runCli(s.db.url, ['projections', 'list']);
    assert.match(list.stdout, /moderation-log: tables moderation_log; reads chat_messages; rebuilt with chat-messages, chat-rooms, moderation-log/);
  });
});

void describe('projections status', () => {
  let s: StoreDb;

  before(async () => {
    s = await createStoreDb();
    await loadMix(s, 2_000);
  });
  after(async () => {
    await s?.close();
  });

  void it('shows checkpoint, head, lag in events and seconds, and a failing live projector with its error', async () => {
    const { createProjections, createReadModelDb, migrateReadModels, ProjectionRunner } = await import('@eventcast/read-models');
    const { db, root } = createReadModelDb(s.db.url, 2);
    try {
      await migrateReadModels(root);
      const runner = new ProjectionRunner(db, createProjections());
      const page = await s.store.readAll({ after: 0n, limit: 1_000 });
      await runner.apply(page);
      // 1000 of 2000+ events applied; the events are 5 ms apart in the generated history.
      const head = await s.store.headPosition();
      const [last, checkpointEvent] = [(await s.store.readAll({ after: head - 1n, limit: 1 }))[0]!, page[page.length - 1]!];
      const st = await runCli(s.db.url, ['projections', 'status', '--json']);
      assert.equal(st.code, 0, st.stderr);
      const rows = JSON.parse(st.stdout) as ProjectionStatusReport[];
      for (const row of rows) {
        assert.equal(row.state, 'running');
        assert.equal(row.checkpoint, '1000');
        assert.equal(row.head, head.toString());
        assert.equal(row.lagEvents, (head - 1000n).toString());
        assert.equal(row.lagSeconds, (last.occurredAt.getTime() - checkpointEvent.occurredAt.getTime()) / 1000);
      }
      const text = await runCli(s.db.url, ['projections', 'status']);
      assert.match(text.stdout, /^PROJECTION +STATE +CHECKPOINT +HEAD +LAG +LAG TIME/);
      assert.match(text.stdout, /\nchat-messages +running +1000 /);

      // A poison event: the live runner's transaction fails, the failure is recorded, the CLI says failed (exit 1).
      const poison = { ...(await s.store.readAll({ after: 1000n, limit: 1 }))[0]!, type: 'ChatMessageSent', version: 2, data: { text: 'no fields' } };
      await assert.rejects(runner.apply([poison]));
      const failed = await runCli(s.db.url, ['projections', 'status', '--json']);
      assert.equal(failed.code, 1);
      const bad = (JSON.parse(failed.stdout) as ProjectionStatusReport[]).find((r) => r.name === 'chat-messages');
      assert.equal(bad?.state, 'failed');
      assert.match(bad?.error ?? '', /InvalidEventError: invalid "ChatMessageSent" payload/);
      assert.match((await runCli(s.db.url, ['projections', 'status'])).stdout, /chat-messages +failed .*InvalidEventError/);
      // The next successful batch clears it.
      await runner.apply(await s.store.readAll({ after: 1000n, limit: 10 }));
      const again = JSON.parse((await runCli(s.db.url, ['projections', 'status', '--json'])).stdout) as ProjectionStatusReport[];
      assert.ok(again.every((r) => r.state === 'running' && r.error === null && r.checkpoint === '1010'));
    } finally {
      await root.destroy();
    }
  });
});
