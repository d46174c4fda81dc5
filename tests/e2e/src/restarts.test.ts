/**
 * Broker and database restarts are routine (issue 9 items 12 and 8), on the whole platform with a private PostgreSQL
 * cluster (restarted here with `pg_ctl -m immediate`) and a private NATS server, under chat load from WebSocket
 * senders (through the realtime edge and NATS) and an HTTP sender:
 * 1. PostgreSQL immediate stop, 5 s down: no app dies; sends answer 503 + `Retry-After` (HTTP) / `unavailable` (WS)
 *    meanwhile, never a 500; command-api's and query-api's `/ready` say 503; sends succeed again within about a second
 *    of PostgreSQL's return; every acknowledged message is stored, projected and relayed once; the read models equal a
 *    rebuild (`ops projections verify --all`).
 * 2. NATS restart, 5 s down: the realtime `/ready` says 503 (`relay: false`) meanwhile while command-api stays ready
 *    (it can append: HTTP sends keep succeeding) and so does query-api (it follows the event store); the WebSocket
 *    viewer gets chat again within 2 s of NATS's return, every message once and in global order.
 * 3. query-api killed (never restarted): chat to a channel the edge has never resolved has 0 failed sends.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { registerAccount, type TestAccount } from './accounts.js';
import { eventually, ROOT, startE2ePlatform, type E2eEnv } from './harness.js';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';
import { connectEdge, type EdgeClient, type Frame } from './ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Outcome of one send. */
interface SendResult {
  text: string;
  /** When the answer came (ms since epoch). */
  at: number;
  outcome: 'ack' | 'unavailable' | 'other';
  detail: string;
}

/** A sender in a loop: one message in flight, `gapMs` between answers, every answer recorded. */
class SenderLoop {
  readonly results: SendResult[] = [];
  private running = true;
  private readonly done: Promise<void>;
  private n = 0;

  constructor(
    readonly name: string,
    send: (text: string) => Promise<Omit<SendResult, 'text' | 'at'>>,
    gapMs = 150,
  ) {
    this.done = (async () => {
      while (this.running) {
        const text = `${name} ${++this.n}`;
        let r: Omit<SendResult, 'text' | 'at'>;
        try {
          r = await send(text);
        } catch (err) {
          r = { outcome: 'other', detail: err instanceof Error ? err.message : String(err) };
        }
        this.results.push({ text, at: Date.now(), ...r });
        await sleep(gapMs);
      }
    })();
  }

  /** Stops after the message in flight. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }

  acked(): string[] {
    return this.results.filter((r) => r.outcome === 'ack').map((r) => r.text);
  }
}

describe('restarts of PostgreSQL and NATS under chat load; chat without query-api', () => {
  let pgServer: PrivatePostgres;
  let env: E2eEnv;
  let owner: TestAccount;
  let viewer: EdgeClient;
  let db: pg.Pool;
  const run = Date.now().toString(36).slice(-5);
  let nonce = 0;

  const http = async (method: string, url: string, token: string | null, body?: unknown): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> => {
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { raw: text };
    }
    return { status: res.status, headers: res.headers, json };
  };
  const readyStatus = (base: string) => fetch(`${base}/ready`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, () => 0);
  const realtimeReady = () => readyStatus(env.platform.urls.realtime.replace(/^ws/, 'http').replace(/\/ws$/, ''));

  /** A WebSocket chat sender signed in as `account`, subscribed to `channel`. */
  async function wsSender(account: TestAccount, channel: string, name: string, gapMs = 150): Promise<{ loop: SenderLoop; client: EdgeClient }> {
    const client = await connectEdge(`${env.platform.urls.realtime}?token=${account.token}`);
    await client.next((f) => f.type === 'authenticated');
    await client.request({ type: 'subscribe', channel }, (f) => f.type === 'subscribed');
    const loop = new SenderLoop(name, async (text) => {
      const n = `n${++nonce}`;
      const f = await client.request({ type: 'chat.send', channel, text, nonce: n }, (x) => x['nonce'] === n || x.type === '__closed', 10_000);
      if (f.type === 'chat.ack') return { outcome: 'ack', detail: '' };
      if (f.type === 'error' && f['code'] === 'unavailable' && typeof f['retryAfterMs'] === 'number') return { outcome: 'unavailable', detail: '' };
      return { outcome: 'other', detail: JSON.stringify(f) };
    }, gapMs);
    return { loop, client };
  }

  /** An HTTP chat sender (`POST /channels/:username/chat/messages`) as `account`. */
  function httpSender(account: TestAccount, channel: string, name: string): SenderLoop {
    return new SenderLoop(name, async (text) => {
      const r = await http('POST', `${env.platform.urls.commandApi}/channels/${channel}/chat/messages`, account.token, { text });
      if (r.status === 201) return { outcome: 'ack', detail: '' };
      const retryAfter = Number(r.headers.get('retry-after'));
      if (r.status === 503 && retryAfter >= 1) return { outcome: 'unavailable', detail: '' };
      return { outcome: 'other', detail: `${r.status} ${JSON.stringify(r.json)}` };
    });
  }

  /** Texts of the `ChatMessageSent` frames `client` received for `channel`, with their global positions. */
  const relayed = (client: EdgeClient, channel: string): { text: string; position: bigint }[] =>
    client.frames
      .filter((f: Frame) => f.type === 'event' && f['channel'] === channel && (f['event'] as { type: string }).type === 'ChatMessageSent')
      .map((f) => {
        const e = f['event'] as { data: { text: string }; globalPosition: string };
        return { text: e.data.text, position: BigInt(e.globalPosition) };
      });

  /** How many times each text was stored as `ChatMessageSent` in `channel`'s room. */
  async function storedCounts(channelId: string): Promise<Map<string, number>> {
    const r = await db.query<{ text: string; n: string }>(
      `SELECT data->>'text' AS text, count(*)::text AS n FROM eventstore.events WHERE type = 'ChatMessageSent' AND stream_name = $1 GROUP BY 1`,
      [`chat-${channelId}`],
    );
    return new Map(r.rows.map((x) => [x.text, Number(x.n)]));
  }

  /** Every acknowledged text stored once; the viewer got every stored text once, in global order. */
  async function assertExactlyOnce(acked: string[], label: string): Promise<void> {
    const stored = await storedCounts(owner.id);
    for (const t of acked) assert.equal(stored.get(t), 1, `${label}: acknowledged "${t}" stored ${stored.get(t) ?? 0} times`);
    for (const [t, n] of stored) assert.equal(n, 1, `${label}: "${t}" stored ${n} times`);
    await eventually(`${label}: the viewer has every stored message`, () => {
      const got = new Set(relayed(viewer, owner.username).map((x) => x.text));
      return Promise.resolve([...stored.keys()].every((t) => got.has(t)));
    }, 15_000);
    const frames = relayed(viewer, owner.username);
    assert.equal(new Set(frames.map((x) => x.text)).size, frames.length, `${label}: the viewer got a message twice`);
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.position > frames[i - 1]!.position, `${label}: relayed out of global order at ${i}`);
  }

  function assertAlive(names: string[]): void {
    for (const name of names) {
      const pid = env.platform.pids[name];
      assert.ok(pid, `${name} has a pid`);
      assert.doesNotThrow(() => process.kill(pid, 0), `${name} (pid ${pid}) is dead`);
    }
  }

  before(async () => {
    pgServer = await startPrivatePostgres();
    env = await startE2ePlatform({ logLevel: 'info', env: { DATABASE_URL: pgServer.url } });
    db = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    db.on('error', () => undefined);
    owner = await registerAccount(env.platform.urls.commandApi, `rs_owner_${run}`);
    viewer = await connectEdge(env.platform.urls.realtime);
    await viewer.request({ type: 'subscribe', channel: owner.username }, (f) => f.type === 'subscribed');
  });

  after(async () => {
    await viewer?.close();
    await db?.end();
    await env?.dispose();
    await pgServer?.dispose();
  });

  it('PostgreSQL immediate stop, 5 s down: nobody dies, 503/unavailable meanwhile, back within ~1 s, nothing lost or doubled', async () => {
    const ws1 = await wsSender(owner, owner.username, 'pg-ws1');
    const ws2 = await wsSender(owner, owner.username, 'pg-ws2');
    const web = httpSender(owner, owner.username, 'pg-http');
    const loops = [ws1.loop, ws2.loop, web];
    try {
      await sleep(1500);
      const stoppedAt = Date.now();
      await pgServer.stopImmediate();
      // Readiness while the database is down.
      const commandReady = await eventually('command-api /ready 503', async () => (await readyStatus(env.platform.urls.commandApi)) === 503, 4000);
      const queryReady = await eventually('query-api /ready 503', async () => (await readyStatus(env.platform.urls.queryApi)) === 503, 4000);
      assert.ok(commandReady && queryReady);
      await sleep(Math.max(0, 5000 - (Date.now() - stoppedAt)));
      const startingAt = Date.now();
      await pgServer.start();
      const backAt = Date.now();
      // query-api projects again: the chat history shows a message acknowledged after PostgreSQL's return.
      const projectedAgain = await eventually<number>('query-api projects messages sent after the restart', async () => {
        const fresh = new Set(loops.flatMap((l) => l.results.filter((r) => r.at >= backAt && r.outcome === 'ack').map((r) => r.text)));
        if (fresh.size === 0) return false;
        const page = await http('GET', `${env.platform.urls.queryApi}/channels/${owner.username}/chat/messages?limit=20`, null);
        const texts = ((page.json['messages'] as { text: string }[] | undefined) ?? []).map((m) => m.text);
        return texts.some((t) => fresh.has(t)) ? Date.now() : false;
      }, 5000);
      process.stderr.write(`query-api: a message sent after the restart projected ${projectedAgain - backAt} ms after PostgreSQL's return\n`);
      assert.ok(projectedAgain - backAt <= 2000, `query-api projected again ${projectedAgain - backAt} ms after PostgreSQL's return`);
      // …and the publisher too: the viewer gets a message sent after the restart.
      const relayedAgain = await eventually<number>('the viewer gets messages sent after the restart', () => {
        const fresh = new Set(loops.flatMap((l) => l.results.filter((r) => r.at >= backAt && r.outcome === 'ack').map((r) => r.text)));
        return Promise.resolve(relayed(viewer, owner.username).some((x) => fresh.has(x.text)) ? Date.now() : false);
      }, 5000);
      process.stderr.write(`viewer: a message sent after the restart relayed ${relayedAgain - backAt} ms after PostgreSQL's return\n`);
      assert.ok(relayedAgain - backAt <= 2000, `relayed again ${relayedAgain - backAt} ms after PostgreSQL's return`);
      await sleep(Math.max(0, 3000 - (Date.now() - backAt)));
      await Promise.all(loops.map((l) => l.stop()));

      assertAlive(['command-api', 'query-api', 'realtime']);
      for (const l of loops) {
        const others = l.results.filter((r) => r.outcome === 'other');
        assert.deepEqual(others, [], `${l.name}: answers other than ack or 503/unavailable`);
        // Answers between the stop and the restart (pg_ctl's start returns a little after the server accepts again).
        const during = l.results.filter((r) => r.at > stoppedAt + 200 && r.at < startingAt);
        assert.ok(during.length > 0 && during.every((r) => r.outcome === 'unavailable'), `${l.name}: during the outage ${JSON.stringify(during.slice(0, 3))}`);
        const firstAck = l.results.find((r) => r.at >= backAt && r.outcome === 'ack');
        assert.ok(firstAck, `${l.name}: acknowledged again after PostgreSQL's return`);
        const resumedMs = firstAck.at - backAt;
        process.stderr.write(`${l.name}: first ack ${resumedMs} ms after PostgreSQL accepted connections again\n`);
        assert.ok(resumedMs <= 1500, `${l.name}: resumed ${resumedMs} ms after PostgreSQL's return`);
      }
      assert.equal(await eventually('command-api ready again', async () => (await readyStatus(env.platform.urls.commandApi)) === 200, 5000), true);
      assert.equal(await eventually('query-api ready again', async () => (await readyStatus(env.platform.urls.queryApi)) === 200, 10_000), true);

      await assertExactlyOnce(loops.flatMap((l) => l.acked()), 'PostgreSQL restart');
      // query-api projected each acknowledged message (chat history), then the read models equal a rebuild.
      const acked = new Set(loops.flatMap((l) => l.acked()));
      await eventually('chat history has every acknowledged message', async () => {
        const r = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM readmodels.chat_messages WHERE channel_id = $1`, [owner.id]);
        return Number(r.rows[0]?.n ?? 0) >= acked.size;
      }, 15_000);
      const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'apps/ops/dist/main.js'), 'projections', 'verify', '--all'], {
        env: { ...process.env, DATABASE_URL: pgServer.url, LOG_LEVEL: 'warn' },
        timeout: 60_000,
      });
      assert.match(stdout, /EQUAL/);
      assert.doesNotMatch(stdout, /DIFFERENT/);
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
      await ws1.client.close();
      await ws2.client.close();
    }
  });

  it('NATS restart, 5 s down: realtime not ready meanwhile, command-api and query-api stay ready, chat back within 2 s, once and in order', async () => {
    const ws1 = await wsSender(owner, owner.username, 'nats-ws1');
    const web = httpSender(owner, owner.username, 'nats-http');
    const loops = [ws1.loop, web];
    try {
      await sleep(1000);
      const stoppedAt = Date.now();
      await env.nats.stop();
      assert.equal(await eventually('realtime /ready 503', async () => (await realtimeReady()) === 503, 4000), true);
      await sleep(1000);
      // Can do their job without NATS: command-api appends (HTTP sends are acknowledged), query-api follows the store.
      assert.equal(await readyStatus(env.platform.urls.commandApi), 200);
      assert.equal(await eventually('query-api ready while NATS is down', async () => (await readyStatus(env.platform.urls.queryApi)) === 200, 3000), true);
      // …and its read models keep moving: a message acknowledged during the outage is in the chat history before NATS is back.
      const duringAck = web.results.find((r) => r.at > stoppedAt + 200 && r.outcome === 'ack');
      assert.ok(duringAck, 'an HTTP send acknowledged during the NATS outage');
      await eventually('query-api projects from the store while NATS is down', async () => {
        const page = await http('GET', `${env.platform.urls.queryApi}/channels/${owner.username}/chat/messages?limit=100`, null);
        return page.status === 200 && JSON.stringify(page.json).includes(`"${duringAck.text}"`);
      }, 3000);
      await sleep(Math.max(0, 5000 - (Date.now() - stoppedAt)));
      const duringHttp = web.results.filter((r) => r.at > stoppedAt + 200);
      assert.ok(duringHttp.length > 0 && duringHttp.every((r) => r.outcome === 'ack'), `HTTP sends during the NATS outage: ${JSON.stringify(duringHttp.filter((r) => r.outcome !== 'ack').slice(0, 3))}`);
      const framesBefore = viewer.frames.length;
      await env.nats.start();
      const backAt = Date.now();
      // The viewer gets chat again (the backlog appended while NATS was down, then live messages) within 2 s.
      await viewer.next((f) => f.type === 'event' && (f['event'] as { type: string }).type === 'ChatMessageSent', 2000 - (Date.now() - backAt), framesBefore);
      const relayMs = Date.now() - backAt;
      process.stderr.write(`viewer received chat ${relayMs} ms after NATS came back\n`);
      assert.equal(await eventually('realtime ready again', async () => (await realtimeReady()) === 200, 3000), true);
      await sleep(2000);
      await Promise.all(loops.map((l) => l.stop()));
      const wsFirstAck = ws1.loop.results.find((r) => r.at >= backAt && r.outcome === 'ack');
      assert.ok(wsFirstAck && wsFirstAck.at - backAt <= 2000, `WebSocket sends acknowledged again ${wsFirstAck ? wsFirstAck.at - backAt : 'never'} ms after NATS's return`);
      for (const l of loops) assert.deepEqual(l.results.filter((r) => r.outcome === 'other'), [], `${l.name}: answers other than ack or unavailable`);
      assertAlive(['command-api', 'query-api', 'realtime']);
      await assertExactlyOnce(loops.flatMap((l) => l.acked()), 'NATS restart');
    } finally {
      await Promise.all(loops.map((l) => l.stop()));
      await ws1.client.close();
    }
  });

  it('query-api killed: chat to a channel the edge never resolved has 0 failed sends', async () => {
    // Registered just now and never chatted in: the edge has no id for it in its cache and must ask the command side.
    const fresh = await registerAccount(env.platform.urls.commandApi, `rs_fresh_${run}`);
    const chatter = await registerAccount(env.platform.urls.commandApi, `rs_chat_${run}`);
    const pid = env.platform.pids['query-api']!;
    process.kill(pid, 'SIGKILL');
    await eventually('query-api is gone', async () => (await readyStatus(env.platform.urls.queryApi)) === 0, 5000);
    const sender = await wsSender(fresh, fresh.username, 'noquery-owner');
    // A viewer's default room limit is 5 messages per 10 s: this one sends 4 in the 3 s.
    const other = await wsSender(chatter, fresh.username, 'noquery-chatter', 800);
    try {
      await sleep(3000);
    } finally {
      await sender.loop.stop();
      await other.loop.stop();
      await sender.client.close();
      await other.client.close();
    }
    const all = [...sender.loop.results, ...other.loop.results];
    assert.ok(all.length >= 10, `sent ${all.length}`);
    assert.deepEqual(all.filter((r) => r.outcome !== 'ack'), [], 'failed sends while query-api is down');
    assertAlive(['command-api', 'realtime']);
  });
});
