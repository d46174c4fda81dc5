/**
 * Scale-out on one machine (issue 12 item 6): TWO ingest nodes, THREE realtime edges, TWO command-api and TWO
 * query-api processes (plus the web app) on one NATS server (the platform's authorization model, monitoring port
 * open), one PostgreSQL database and Redis. It shows:
 * (a) a broadcast published to either ingest node plays in Chromium through the web app: the playback URL names the
 *     public HLS origin (ingest node 1), which answers for a channel live on node 2 with node 2's response
 *     (`INGEST_PEER_ORIGINS`, docs/design.md "Ingest nodes and playback routing");
 * (b) viewers spread over the three edges each receive every chat message exactly once and in the store's order,
 *     with chat sent through different edges and over HTTP to both command-apis;
 * (c) projection leadership across the two query-apis (the projector as a whole: one advisory-lock leader, gauge
 *     `eventcast_projector_leader`);
 * (d) each edge takes from NATS only the channels its viewers watch: from the NATS server's own statistics
 *     (`/jsz` consumer filters, `/connz` bytes and messages per edge connection), an edge with no viewer of a channel
 *     receives none of that channel's chat traffic while the edges with viewers receive all of it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import pg from 'pg';
import { freePort, type AppInstance } from '@eventcast/launcher';
import { registerAccount, type TestAccount } from './accounts.js';
import { eventually, launchChromium, publishTestStream, startE2ePlatform, type E2eEnv, type Publisher } from './harness.js';
import { connectEdge, type EdgeClient, type Frame } from './ws-client.js';

/** One connection of `/connz` (nats-server monitoring). */
interface NatsConn {
  cid: number;
  name?: string;
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}

/** A consumer of `/jsz?consumers=true&config=true`. */
interface NatsConsumer {
  name: string;
  config: { filter_subject?: string; durable_name?: string };
}

const EDGE_IDS = ['edge-1', 'edge-2', 'edge-3'] as const;
type EdgeId = (typeof EDGE_IDS)[number];

describe('scale-out: 2 ingest nodes, 3 edges, 2 command-api, 2 query-api on one NATS, PostgreSQL and Redis', () => {
  let env: E2eEnv;
  let browser: Browser;
  const edgeUrl: Record<EdgeId, string> = { 'edge-1': '', 'edge-2': '', 'edge-3': '' };
  const commandApis: string[] = [];
  const queryApis: string[] = [];
  let ingest2: { rtmp: string; hls: string };
  const clients: EdgeClient[] = [];
  const publishers: Publisher[] = [];
  const run = Date.now().toString(36).slice(-6);
  let alice: TestAccount;
  let bob: TestAccount;
  let carol: TestAccount;

  before(async () => {
    const media2 = mkdtempSync(join(tmpdir(), 'eventcast-e2e-ingest2-'));
    const c2 = await freePort();
    const q2 = await freePort();
    const edgePorts = [await freePort(), await freePort()] as const;
    const i2 = { rtmp: await freePort(), rtmps: await freePort(), hls: await freePort() };
    ingest2 = { rtmp: `rtmp://127.0.0.1:${i2.rtmp}/live`, hls: `http://127.0.0.1:${i2.hls}` };
    env = await startE2ePlatform({
      logLevel: 'info',
      natsMonitor: true,
      // Shared by every app; read by the first edge and the first ingest node (node 1 asks node 2 for what it lacks).
      env: { REALTIME_EDGE_ID: 'edge-1', INGEST_ID: 'ingest-1', INGEST_PEER_ORIGINS: ingest2.hls },
      instances: (ports): AppInstance[] => [
        { app: 'command-api', name: 'command-api-2', ports: { commandApi: c2 } },
        { app: 'query-api', name: 'query-api-2', ports: { queryApi: q2 } },
        { app: 'realtime', name: 'realtime-2', ports: { realtime: edgePorts[0] }, env: { REALTIME_EDGE_ID: 'edge-2' } },
        { app: 'realtime', name: 'realtime-3', ports: { realtime: edgePorts[1] }, env: { REALTIME_EDGE_ID: 'edge-3' } },
        // Node 2: its own RTMP and HTTP ports and media directory; its peer is node 1 (the public HLS origin).
        { app: 'ingest', name: 'ingest-2', ports: i2, env: { INGEST_ID: 'ingest-2', MEDIA_DIR: media2, INGEST_PEER_ORIGINS: `http://127.0.0.1:${ports.hls}` } },
      ],
    });
    edgeUrl['edge-1'] = env.platform.urls.realtime;
    edgeUrl['edge-2'] = `ws://127.0.0.1:${edgePorts[0]}/ws`;
    edgeUrl['edge-3'] = `ws://127.0.0.1:${edgePorts[1]}/ws`;
    commandApis.push(env.platform.urls.commandApi, `http://127.0.0.1:${c2}`);
    queryApis.push(env.platform.urls.queryApi, `http://127.0.0.1:${q2}`);
    browser = await launchChromium();
    alice = await registerAccount(commandApis[0]!, `so_alice_${run}`);
    bob = await registerAccount(commandApis[1]!, `so_bob_${run}`);
    carol = await registerAccount(commandApis[1]!, `so_carol_${run}`);
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all(publishers.map((p) => p.stop()));
    await browser?.close();
    await env?.dispose();
  });

  /** A socket on `edge`, signed in as `account` (or a guest), subscribed to `channel`. */
  async function viewer(edge: EdgeId, account: TestAccount | null, channel: string): Promise<EdgeClient> {
    const c = await connectEdge(account ? `${edgeUrl[edge]}?token=${account.token}` : edgeUrl[edge]);
    clients.push(c);
    if (account) await c.next((f) => f.type === 'authenticated');
    await c.request({ type: 'subscribe', channel }, (f) => f.type === 'subscribed');
    return c;
  }

  /** Sends `text` to `channel`'s chat over a socket; resolves with the ack's global position. */
  async function sendWs(c: EdgeClient, channel: string, text: string, nonce: string): Promise<void> {
    const f = await c.request({ type: 'chat.send', channel, text, nonce }, (x) => x['nonce'] === nonce && (x.type === 'chat.ack' || x.type === 'error'), 10_000);
    assert.equal(f.type, 'chat.ack', `"${text}" refused: ${JSON.stringify(f)}`);
  }

  /** Sends `text` over HTTP (`POST /channels/:username/chat/messages`) to command-api `base`. */
  async function sendHttp(base: string, account: TestAccount, channel: string, text: string): Promise<void> {
    const res = await fetch(`${base}/channels/${channel}/chat/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.token}` },
      body: JSON.stringify({ text }),
    });
    assert.ok(res.status === 201 || res.status === 200, `HTTP send "${text}": ${res.status} ${await res.text()}`);
  }

  /** The chat texts a socket received for `channel`, in arrival order, with their global positions. */
  function chatOf(c: EdgeClient, channel: string, prefix: string): { text: string; position: bigint; id: string }[] {
    return c.frames
      .filter((f: Frame) => f.type === 'event' && f['channel'] === channel)
      .map((f) => f['event'] as { id: string; type: string; globalPosition: string; data: { text?: string } })
      .filter((e) => e.type === 'ChatMessageSent' && (e.data.text ?? '').startsWith(prefix))
      .map((e) => ({ text: e.data.text ?? '', position: BigInt(e.globalPosition), id: e.id }));
  }

  async function connz(): Promise<Map<EdgeId, NatsConn>> {
    const res = await fetch(`${env.nats.monitorUrl!}/connz?limit=1024`);
    const body = (await res.json()) as { connections: NatsConn[] };
    const out = new Map<EdgeId, NatsConn>();
    for (const c of body.connections) {
      const edge = EDGE_IDS.find((e) => c.name === `realtime-${e}`);
      if (edge) out.set(edge, c);
    }
    return out;
  }

  async function consumerFilters(): Promise<string[]> {
    const res = await fetch(`${env.nats.monitorUrl!}/jsz?accounts=true&streams=true&consumers=true&config=true`);
    const body = (await res.json()) as { account_details?: { stream_detail?: { consumer_detail?: NatsConsumer[] }[] }[] };
    const consumers = (body.account_details ?? []).flatMap((a) => (a.stream_detail ?? []).flatMap((s) => s.consumer_detail ?? []));
    return consumers.map((c) => c.config.filter_subject ?? '');
  }

  it('(b) viewers on three edges each get every chat message once, in the store order, sent via edges and HTTP', async () => {
    const channel = alice.username;
    const viewers = [
      await viewer('edge-1', null, channel),
      await viewer('edge-1', carol, channel),
      await viewer('edge-2', null, channel),
      await viewer('edge-3', null, channel),
    ];
    const senders = { 'edge-1': await viewer('edge-1', alice, channel), 'edge-2': await viewer('edge-2', alice, channel), 'edge-3': await viewer('edge-3', alice, channel) };
    const prefix = `b-${run}-`;
    const texts: string[] = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const text = `${prefix}${i}`;
      texts.push(text);
      // Round robin: three edges and both command-apis over HTTP, several in flight at once.
      const route = i % 5;
      if (route < 3) {
        const edge = EDGE_IDS[route]!;
        sends.push(sendWs(senders[edge], channel, text, `n${i}`));
      } else {
        sends.push(sendHttp(commandApis[route - 3]!, alice, channel, text));
      }
      if (i % 5 === 4) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    for (const c of [...viewers, ...Object.values(senders)]) {
      await eventually('every message at every viewer', () => Promise.resolve(chatOf(c, channel, prefix).length >= texts.length), 20_000);
    }
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive right after
    const reference = chatOf(viewers[0]!, channel, prefix);
    assert.deepEqual([...reference.map((m) => m.text)].sort(), [...texts].sort(), 'each message exactly once');
    for (let i = 1; i < reference.length; i++) assert.ok(reference[i]!.position > reference[i - 1]!.position, 'in global-position order');
    for (const c of [...viewers, ...Object.values(senders)]) {
      assert.deepEqual(chatOf(c, channel, prefix).map((m) => m.id), reference.map((m) => m.id), 'every viewer on every edge: the same messages, once, in the same order');
    }
  });

  it('(d) an edge receives from NATS only the channels its viewers watch', async () => {
    const channel = bob.username;
    // bob's viewers are on edge 3 only; edges 1 and 2 keep their viewers of alice.
    const bobViewer = await viewer('edge-3', null, channel);
    const filters = await consumerFilters();
    const perChannel = (ch: string) => filters.filter((f) => f === `eventcast.events.*.${ch}.*`).length;
    assert.equal(perChannel(channel), 1, `one consumer for bob's channel (edge 3's): ${JSON.stringify(filters)}`);
    assert.equal(perChannel(alice.username), 3, 'one consumer per edge watching alice');
    // No edge reads the whole stream: every unfiltered consumer is one of query-api's durables.
    const whole = filters.filter((f) => f === '' || f === '>' || f === 'eventcast.events.>');
    assert.ok(whole.length <= 2, `only query-api's durable consumers read every event: ${JSON.stringify(filters)}`);

    const before = await connz();
    assert.equal(before.size, 3, 'all three edges are connected to NATS');
    const n = 60;
    const pad = 'x'.repeat(300);
    const prefix = `d-${run}-`;
    for (let i = 0; i < n; i++) await sendHttp(commandApis[i % 2]!, bob, channel, `${prefix}${i}-${pad}`);
    await eventually("bob's viewer got every message", () => Promise.resolve(chatOf(bobViewer, channel, prefix).length >= n), 20_000);
    const afterStats = await connz();
    const delta = (e: EdgeId) => ({ msgs: afterStats.get(e)!.out_msgs - before.get(e)!.out_msgs, bytes: afterStats.get(e)!.out_bytes - before.get(e)!.out_bytes });
    const payload = n * pad.length;
    assert.ok(delta('edge-3').bytes >= payload, `edge 3 (bob's viewer) received bob's chat: ${JSON.stringify(delta('edge-3'))}`);
    for (const e of ['edge-1', 'edge-2'] as const) {
      // Only heartbeats and the like: far less than one copy of bob's chat traffic.
      assert.ok(delta(e).bytes < payload / 10, `${e} (no viewer of bob) received ${JSON.stringify(delta(e))} while bob's chat carried ${payload} bytes`);
      assert.ok(delta(e).msgs < n / 2, `${e} received ${delta(e).msgs} messages while bob's chat had ${n}`);
    }
    // The last viewer leaves: the edge's consumer for the channel goes.
    await bobViewer.close();
    await eventually('edge 3 stops consuming bob\'s channel', async () => (await perChannelNow(channel)) === 0, 15_000);
    async function perChannelNow(ch: string): Promise<number> {
      return (await consumerFilters()).filter((f) => f === `eventcast.events.*.${ch}.*`).length;
    }
  });

  it('(a) a broadcast published to either ingest node plays through the web app', async () => {
    // One broadcast at a time (this machine's two cores also run every other process of the test).
    for (const [account, rtmp, node] of [
      [bob, ingest2.rtmp, 'node 2'],
      [alice, env.platform.urls.rtmp, 'node 1'],
    ] as const) {
      const keyRes = await fetch(`${commandApis[0]!}/me/stream-key`, { headers: { authorization: `Bearer ${account.token}` } });
      const { streamKey } = (await keyRes.json()) as { streamKey: string };
      await eventually('the channel in the read model', async () => (await fetch(`${queryApis[1]!}/channels/${account.username}`)).ok, 30_000);
      const page = await browser.newPage();
      await page.goto(`${env.platform.urls.web}/${account.username}`);
      await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });
      const publisher = publishTestStream(`${rtmp}/${streamKey}`);
      publishers.push(publisher);
      try {
        await page.getByTestId('live-status').filter({ hasText: 'LIVE' }).waitFor({ timeout: 30_000 });
        const currentTime = (): Promise<number> => page.evaluate(() => document.querySelector<HTMLVideoElement>('[data-testid="player"]')?.currentTime ?? 0);
        const t0 = await eventually(`${account.username}'s video (${node}) to start playing`, currentTime, 30_000);
        await eventually(`${account.username}'s video (${node}) to advance by 1.5 s`, async () => (await currentTime()) - t0 > 1.5, 15_000);
        for (const q of queryApis) {
          const view = (await (await fetch(`${q}/channels/${account.username}`)).json()) as { live: boolean; playbackUrl: string | null };
          assert.equal(view.live, true);
          assert.equal(new URL(view.playbackUrl ?? 'x:').origin, env.platform.urls.hls, 'the playback URL names the public HLS origin (node 1)');
          assert.equal((await fetch(view.playbackUrl!)).status, 200);
        }
        if (account === bob) {
          // bob's media live on node 2 only: node 1 answers with node 2's response (a forwarded request is never
          // forwarded again, so node 1 itself has nothing for bob).
          const path = `/hls/${bob.username}/index.m3u8`;
          assert.equal((await fetch(`${ingest2.hls}${path}`)).status, 200, 'node 2 holds bob');
          assert.equal((await fetch(`${env.platform.urls.hls}${path}`, { headers: { 'x-eventcast-forwarded': '1' } })).status, 404, 'node 1 does not hold bob');
          assert.equal((await fetch(`${env.platform.urls.hls}${path}`)).status, 200, "node 1 answers for bob with node 2's response");
        }
      } finally {
        await publisher.stop();
        await page.close();
      }
    }
  });

  it('(c) the projections are applied by one query-api; the other takes over within seconds after a kill -9', async () => {
    // Every query-api says whether it leads the projector in its metrics (gauge `eventcast_projector_leader`, 1 or 0);
    // the projections are applied as a whole by the leader (one durable consumer, one transaction per batch).
    const leaders = async (): Promise<Map<string, string[]>> => {
      const byProjector = new Map<string, string[]>();
      for (const [i, q] of queryApis.entries()) {
        // a killed query-api answers nothing: it leads nothing
        const text = await fetch(`${q}/metrics`).then((r) => r.text()).catch(() => '');
        for (const line of text.split('\n')) {
          if (/^eventcast_projector_leader(\{[^}]*\})?\s+1\b/.test(line)) byProjector.set('projector', [...(byProjector.get('projector') ?? []), `query-api-${i + 1}`]);
        }
      }
      return byProjector;
    };
    await eventually('one query-api to lead the projector', async () => (await leaders()).size > 0);
    const now = await leaders();
    assert.ok(now.size > 0, 'the query-apis report projection leadership in their metrics');
    for (const [projection, who] of now) assert.equal(who.length, 1, `${projection} has exactly one leader: ${who.join(', ')}`);
    const victim = now.values().next().value![0]!;
    const survivor = queryApis[victim === 'query-api-1' ? 1 : 0]!;
    const pid = env.platform.pids[victim === 'query-api-1' ? 'query-api' : 'query-api-2'];
    assert.ok(pid, 'the leader\'s pid');
    process.kill(pid, 'SIGKILL');
    const prefix = `c-${run}-`;
    const t0 = Date.now();
    await sendHttp(commandApis[0]!, alice, alice.username, `${prefix}after-kill`);
    await eventually(
      'the survivor to project a message sent after the kill',
      async () => {
        const r = (await (await fetch(`${survivor}/channels/${alice.username}/chat/messages?limit=100`)).json()) as { messages: { text: string }[] };
        return r.messages.some((m) => m.text === `${prefix}after-kill`);
      },
      15_000,
    );
    assert.ok(Date.now() - t0 < 15_000, 'taken over within seconds');
    const heir = victim === 'query-api-1' ? 'query-api-2' : 'query-api-1';
    await eventually('the survivor to report that it leads the projector', async () => (await leaders()).get('projector')?.join() === heir);
    // Applied once: the read model has each of alice's messages exactly once (as many rows as ChatMessageSent events).
    const client = new pg.Client({ connectionString: env.db.url });
    await client.connect();
    try {
      const events = await client.query<{ n: string }>(`SELECT count(*) AS n FROM eventstore.events WHERE type = 'ChatMessageSent' AND stream_name = $1`, [`chat-${alice.id}`]);
      await eventually('the read model to hold every message of alice', async () => {
        const rows = await client.query<{ n: string }>('SELECT count(*) AS n FROM readmodels.chat_messages WHERE channel_id = $1', [alice.id]);
        return rows.rows[0]!.n === events.rows[0]!.n;
      });
    } finally {
      await client.end();
    }
  });
});
