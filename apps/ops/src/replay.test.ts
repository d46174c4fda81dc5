/**
 * `eventcast-ops replay` against the real PostgreSQL store: filters (type, category, stream prefix, channel,
 * positions, time), JSON Lines and CSV parsed back, redaction by default and the admin gate of --unredacted,
 * --out, and --follow streaming live appends until aborted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { newEvent, streams, type WireEvent } from '@eventcast/events';
import { REDACTED } from './redact.js';
import { createStoreDb, runCli, waitFor, type StoreDb } from './test-support.js';

interface Account {
  id: string;
  name: string;
}

const ADMIN_ENV = { EVENTCAST_ADMINS: 'root_admin, other_admin' };

async function register(s: StoreDb, name: string): Promise<Account> {
  const a = { id: randomUUID(), name };
  await s.store.append(streams.username(name), [newEvent('UsernameClaimed', { username: name, accountId: a.id })], 'no_stream');
  await s.store.append(
    streams.account(a.id),
    [
      newEvent('AccountRegistered', { accountId: a.id, username: name, passwordHash: `$argon2id$v=19$m=65536,t=3,p=4$${randomBytes(8).toString('hex')}` }),
      newEvent('StreamKeyIssued', { channelId: a.id, keyId: randomUUID(), keyHash: randomBytes(32).toString('hex'), keyCiphertext: 'iv.tag.ciphertext-of-the-key' }),
      newEvent('ChannelInfoUpdated', { channelId: a.id, username: name, title: `${name} live`, category: 'Games' }),
    ],
    'no_stream',
  );
  return a;
}

function chat(channel: Account, sender: Account, text: string) {
  const now = new Date().toISOString();
  return newEvent('ChatMessageSent', {
    channelId: channel.id,
    username: channel.name,
    messageId: randomUUID(),
    senderId: sender.id,
    senderName: sender.name,
    senderRole: sender.id === channel.id ? 'owner' : 'viewer',
    text,
    maskedTerms: 0,
    sentAt: now,
    visibleAt: now,
  });
}

const lines = (out: string): WireEvent[] =>
  out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as WireEvent);

void describe('eventcast-ops replay', () => {
  let s: StoreDb;
  let alice: Account;
  let bob: Account;
  let head: bigint;

  before(async () => {
    s = await createStoreDb();
    alice = await register(s, 'alice_ops');
    bob = await register(s, 'bob_ops');
    for (let i = 0; i < 5; i++) await s.store.append(streams.chat(alice.id), [chat(alice, bob, `hi alice ${i}`)], 'any');
    for (let i = 0; i < 3; i++) await s.store.append(streams.chat(bob.id), [chat(bob, alice, `hi bob ${i}`)], 'any');
    await s.store.append(streams.ingest(alice.id), [newEvent('PublishRejected', { channelId: alice.id, reason: 'invalid_key', remoteAddress: '203.0.113.7' })], 'any');
    await s.store.append(streams.follows(alice.id), [newEvent('ChannelFollowed', { channelId: alice.id, username: alice.name, followerId: bob.id, followerName: bob.name })], 'any');
    head = await s.store.headPosition();
  });
  after(async () => {
    await s.close();
  });

  void it('writes every event as JSON Lines in global order, parseable back', async () => {
    const r = await runCli(s.db.url, ['replay']);
    assert.equal(r.code, 0, r.stderr);
    const events = lines(r.stdout);
    assert.equal(events.length, Number(head));
    assert.deepEqual(
      events.map((e) => e.globalPosition),
      Array.from({ length: Number(head) }, (_, i) => String(i + 1)),
    );
    for (const e of events) assert.ok(e.id && e.type && e.streamName && !Number.isNaN(Date.parse(e.occurredAt)));
  });

  void it('filters by type (repeatable and comma-separated), category and stream prefix', async () => {
    const byType = lines((await runCli(s.db.url, ['replay', '--type', 'ChatMessageSent'])).stdout);
    assert.equal(byType.length, 8);
    assert.ok(byType.every((e) => e.type === 'ChatMessageSent'));
    const two = lines((await runCli(s.db.url, ['replay', '--type', 'PublishRejected,ChannelFollowed', '--type', 'UsernameClaimed'])).stdout);
    assert.deepEqual([...new Set(two.map((e) => e.type))].sort(), ['ChannelFollowed', 'PublishRejected', 'UsernameClaimed']);
    assert.equal(two.length, 4);
    const accounts = lines((await runCli(s.db.url, ['replay', '--category', 'account'])).stdout);
    assert.equal(accounts.length, 6);
    assert.ok(accounts.every((e) => e.streamName.startsWith('account-')));
    const prefix = lines((await runCli(s.db.url, ['replay', '--stream', `chat-${bob.id}`])).stdout);
    assert.equal(prefix.length, 3);
    assert.ok(prefix.every((e) => e.streamName === `chat-${bob.id}`));
  });

  void it('filters by channel, given as username or id, across categories', async () => {
    const byName = lines((await runCli(s.db.url, ['replay', '--channel', 'Alice_Ops'])).stdout);
    const byId = lines((await runCli(s.db.url, ['replay', '--channel', alice.id])).stdout);
    assert.deepEqual(byName, byId);
    // username reservation (1, its accountId), account (3), chat (5), ingest (1), follows (1); nothing of bob's channel.
    assert.equal(byName.length, 11);
    for (const e of byName) {
      const d = e.data as { channelId?: string; accountId?: string };
      assert.ok(d.channelId === alice.id || d.accountId === alice.id, `${e.type} of ${e.streamName}`);
    }
    const unknown = await runCli(s.db.url, ['replay', '--channel', 'nobody_here']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown channel "nobody_here"/);
  });

  void it('filters by position range and by time', async () => {
    const range = lines((await runCli(s.db.url, ['replay', '--from-position', '3', '--to-position', '7'])).stdout);
    assert.deepEqual(
      range.map((e) => e.globalPosition),
      ['3', '4', '5', '6', '7'],
    );
    // Move the first 8 events an hour into the past; --since half an hour ago returns exactly the rest.
    await s.store.pool.query("UPDATE eventstore.events SET created_at = created_at - interval '1 hour' WHERE global_position <= 8");
    const since = new Date(Date.now() - 30 * 60_000).toISOString();
    const recent = lines((await runCli(s.db.url, ['replay', '--since', since])).stdout);
    assert.deepEqual(
      recent.map((e) => Number(e.globalPosition)),
      Array.from({ length: Number(head) - 8 }, (_, i) => i + 9),
    );
    const bad = await runCli(s.db.url, ['replay', '--since', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /ISO-8601/);
    const badPos = await runCli(s.db.url, ['replay', '--from-position', '-4']);
    assert.equal(badPos.code, 2);
  });

  void it('redacts password hashes, stream-key hashes and ciphertexts, and IP addresses by default', async () => {
    const events = lines((await runCli(s.db.url, ['replay'])).stdout);
    const registered = events.filter((e) => e.type === 'AccountRegistered');
    assert.equal(registered.length, 2);
    for (const e of registered) assert.equal((e.data as { passwordHash: string }).passwordHash, REDACTED);
    for (const e of events.filter((x) => x.type === 'StreamKeyIssued')) {
      const d = e.data as { keyHash: string; keyCiphertext: string; keyId: string };
      assert.equal(d.keyHash, REDACTED);
      assert.equal(d.keyCiphertext, REDACTED);
      assert.match(d.keyId, /^[0-9a-f-]{36}$/);
    }
    const rejected = events.find((e) => e.type === 'PublishRejected');
    assert.equal((rejected?.data as { remoteAddress: string }).remoteAddress, REDACTED);
    assert.equal((events.find((e) => e.type === 'ChatMessageSent')?.data as { text: string }).text, 'hi alice 0');
    assert.ok(!JSON.stringify(events).includes('$argon2id'));
    assert.ok(!JSON.stringify(events).includes('203.0.113.7'));
  });

  void it('--unredacted only for an administrator named with --as, listed in EVENTCAST_ADMINS', async () => {
    const noAs = await runCli(s.db.url, ['replay', '--unredacted'], ADMIN_ENV);
    assert.equal(noAs.code, 2);
    assert.match(noAs.stderr, /--unredacted needs --as/);
    assert.equal(noAs.stdout, '');
    const notAdmin = await runCli(s.db.url, ['replay', '--unredacted', '--as', 'alice_ops'], ADMIN_ENV);
    assert.equal(notAdmin.code, 2);
    assert.match(notAdmin.stderr, /"alice_ops" is not listed in EVENTCAST_ADMINS/);
    assert.equal(notAdmin.stdout, '');
    const noAdmins = await runCli(s.db.url, ['replay', '--unredacted', '--as', 'root_admin']);
    assert.equal(noAdmins.code, 2);
    const ok = await runCli(s.db.url, ['replay', '--unredacted', '--as', 'Other_Admin'], ADMIN_ENV);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /unredacted output requested by administrator other_admin/);
    const events = lines(ok.stdout);
    assert.match((events.find((e) => e.type === 'AccountRegistered')?.data as { passwordHash: string }).passwordHash, /^\$argon2id\$/);
    assert.equal((events.find((e) => e.type === 'PublishRejected')?.data as { remoteAddress: string }).remoteAddress, '203.0.113.7');
  });

  void it('writes CSV with a header row; parsed back it matches the JSON Lines output', async () => {
    const csv = await runCli(s.db.url, ['replay', '--format', 'csv', '--batch-size', '4']);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse<Record<string, string>>(csv.stdout, { columns: true });
    const json = lines((await runCli(s.db.url, ['replay'])).stdout);
    assert.equal(rows.length, json.length);
    assert.deepEqual(Object.keys(rows[0]!), ['globalPosition', 'occurredAt', 'type', 'version', 'streamName', 'revision', 'id', 'data', 'metadata']);
    rows.forEach((row, i) => {
      const e = json[i]!;
      assert.equal(row['globalPosition'], e.globalPosition);
      assert.equal(row['type'], e.type);
      assert.equal(row['occurredAt'], e.occurredAt);
      assert.deepEqual(JSON.parse(row['data']!), e.data);
      assert.deepEqual(JSON.parse(row['metadata']!), e.metadata);
    });
    const withComma = rows.find((r) => r['type'] === 'ChannelInfoUpdated');
    assert.equal((JSON.parse(withComma!['data']!) as { title: string }).title, 'alice_ops live');
    assert.ok(!csv.stdout.includes('$argon2id'));
  });

  void it('--out writes to a file and reports on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-replay-'));
    try {
      const file = join(dir, 'events.jsonl');
      const r = await runCli(s.db.url, ['replay', '--out', file, '--type', 'ChatMessageSent']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /8 events written/);
      assert.equal(lines(readFileSync(file, 'utf8')).length, 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void it('--follow streams events appended after the end of the log until interrupted', async () => {
    const abort = new AbortController();
    const { PassThrough } = await import('node:stream');
    const { createCli } = await import('./cli.js');
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (b: Buffer) => (text += b.toString('utf8')));
    const cli = createCli({ stdout, stderr: new PassThrough(), env: { ...process.env, DATABASE_URL: s.db.url }, signal: abort.signal });
    const running = cli.run(['replay', '--follow', '--type', 'ChatMessageSent', '--channel', 'bob_ops']);
    await waitFor(() => Promise.resolve(lines(text).length === 3), 10_000, 'the history');
    await s.store.append(streams.chat(alice.id), [chat(alice, bob, 'not for bob')], 'any');
    await s.store.append(streams.chat(bob.id), [chat(bob, alice, 'live one')], 'any');
    await waitFor(() => Promise.resolve(lines(text).length === 4), 10_000, 'the live event');
    assert.equal((lines(text)[3]!.data as { text: string }).text, 'live one');
    abort.abort();
    assert.equal(await running, 0);
  });

  void it('the PostgreSQL fast path (raw rows) and the port-only path write the same events', async () => {
    const { PassThrough } = await import('node:stream');
    const { replay } = await import('./replay.js');
    const collect = async (store: Parameters<typeof replay>[0], format: 'jsonl' | 'csv', extra: Partial<Parameters<typeof replay>[1]> = {}) => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (b: Buffer) => (text += b.toString('utf8')));
      await replay(store, { format, out, batchSize: 3, ...extra });
      return text;
    };
    const portOnly = { readAll: s.store.readAll.bind(s.store), headPosition: s.store.headPosition.bind(s.store), subscribeToAll: s.store.subscribeToAll.bind(s.store) };
    for (const extra of [{}, { unredacted: true }, { channel: 'alice_ops' }, { fromPosition: 4n, toPosition: 12n }]) {
      assert.deepEqual(lines(await collect(s.store, 'jsonl', extra)), lines(await collect(portOnly, 'jsonl', extra)), JSON.stringify(extra, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
    }
    const fast = parse<Record<string, string>>(await collect(s.store, 'csv'), { columns: true });
    const slow = parse<Record<string, string>>(await collect(portOnly, 'csv'), { columns: true });
    assert.equal(fast.length, slow.length);
    fast.forEach((row, i) => {
      const decoded = (r: Record<string, string>): Record<string, unknown> => ({ ...r, data: JSON.parse(r['data']!) as unknown, metadata: JSON.parse(r['metadata']!) as unknown });
      assert.deepEqual(decoded(row), decoded(slow[i]!));
    });
  });

  void it('has --help on every command', async () => {
    for (const args of [['--help'], ['replay', '--help'], ['projections', '--help'], ['projections', 'status', '--help'], ['projections', 'rebuild', '--help'], ['projections', 'verify', '--help']]) {
      const r = await runCli(s.db.url, args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.stdout, /Usage: eventcast-ops/);
    }
    const bad = await runCli(s.db.url, ['replay', '--format', 'xml']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Allowed choices are jsonl, csv/);
  });
});
