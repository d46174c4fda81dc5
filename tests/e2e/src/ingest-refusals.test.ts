/**
 * An encoder is told why it was refused (issue 9 item 5), against the whole platform (real command side, event
 * store, NATS, ingest with node-media-server, ffmpeg): a wrong key and a key rotated on the command side get
 * `NetStream.Publish.BadName` with the reason, a second encoder on a live channel `NetStream.Publish.Rejected`; ffmpeg
 * prints the onStatus description as "Server error: …" (libavformat/rtmpproto.c). The texts are the contract
 * `rtmpRefusalStatus` of @eventcast/contracts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAccount, type TestAccount } from './accounts.js';
import { eventually, publishTestStream, startE2ePlatform, type E2eEnv } from './harness.js';

/** Runs ffmpeg against `key` until it exits (at most 15 s) and returns its stderr. */
async function refusedPublish(env: E2eEnv, key: string): Promise<string> {
  const pub = publishTestStream(`${env.platform.urls.rtmp}/${key}`, { seconds: 20 });
  const code = await Promise.race([pub.exited, new Promise((r) => setTimeout(() => r('still publishing'), 15_000))]);
  await pub.stop();
  assert.notEqual(code, 'still publishing', 'a refused encoder must be disconnected');
  return pub.stderr();
}

describe('ingest tells the encoder why it was refused (whole platform)', () => {
  let env: E2eEnv;
  let account: TestAccount;
  const streamKey = async (method: 'GET' | 'POST', path: string): Promise<string> => {
    const res = await fetch(`${env.platform.urls.commandApi}${path}`, { method, headers: { authorization: `Bearer ${account.token}` } });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { streamKey: string }).streamKey;
  };

  before(async () => {
    env = await startE2ePlatform({ logLevel: 'info' });
    account = await registerAccount(env.platform.urls.commandApi, `refuse_${Date.now().toString(36)}`);
  });
  after(() => env?.dispose());

  it('wrong key and rotated key: NetStream.Publish.BadName with the reason; already live: NetStream.Publish.Rejected', async () => {
    const original = await streamKey('GET', '/me/stream-key');
    const wrong = `${original.slice(0, -4)}${original.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    assert.match(await refusedPublish(env, wrong), /Server error: NetStream\.Publish\.BadName: the stream key is wrong or was rotated/);

    const current = await streamKey('POST', '/me/stream-key/rotate');
    assert.notEqual(current, original);
    assert.match(await refusedPublish(env, original), /Server error: NetStream\.Publish\.BadName: the stream key is wrong or was rotated/);

    const live = publishTestStream(`${env.platform.urls.rtmp}/${current}`, { seconds: 40 });
    try {
      await eventually('the channel live (first HLS playlist)', async () => {
        const r = await fetch(`${env.platform.urls.hls}/hls/${account.username}/source.m3u8`);
        return r.status === 200 && (await r.text()).includes('#EXTINF');
      }, 30_000);
      assert.match(await refusedPublish(env, current), /Server error: NetStream\.Publish\.Rejected: the channel is already live/);
      assert.equal(live.child.exitCode, null, 'the live encoder is not disturbed by the refused one');
    } finally {
      await live.stop();
    }
  });
});
