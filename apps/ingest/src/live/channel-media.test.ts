/**
 * The channel manager feeds the live media store: a real publisher → node-media-server → ChannelManager (its
 * broadcast commands answered by the fake command side on a real NATS) → packager → a recording media sink.
 * Needs NATS_URL (a throw-away nats-server) like the other ingest e2e tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CommandPatterns } from '@eventcast/events';
import { createLogger, natsConnectionOptions } from '@eventcast/platform';
import { ChannelManager } from '../channels.js';
import { NatsCommandClient } from '../command-client.js';
import { loadIngestConfig } from '../config.js';
import { createNms, type NmsServer } from '../nms.js';
import { FakeCommandSide } from '../test-support/fake-command-side.js';
import { freePort, publishTestStream, waitUntil, type Publisher } from '../test-support/harness.js';
import { testSubjectPrefix } from '../test-support/ingest-run.js';
import { RecordingMediaSink } from '../test-support/recording-sink.js';

const log = createLogger('channel-media-test');
log.level = 'warn';
const KEY = 'channel_media_key';

void describe('ChannelManager → live media store', () => {
  let nms: NmsServer;
  let fake: FakeCommandSide;
  let commands: NatsCommandClient;
  let channels: ChannelManager;
  let publisher: Publisher | null = null;
  const media = new RecordingMediaSink();

  before(async () => {
    const port = await freePort();
    const prefix = testSubjectPrefix();
    const cfg = loadIngestConfig({
      HOST: '127.0.0.1', INGEST_RTMP_PORT: String(port), NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
      INGEST_COMMAND_SUBJECT_PREFIX: prefix, INGEST_HLS_CLEANUP_DELAY_MS: '1234', INGEST_RENDITIONS: 'source',
    });
    fake = await FakeCommandSide.start(prefix, {
      [CommandPatterns.BroadcastStart]: (d) => ({ ok: true, broadcastId: d['broadcastId'] }),
      [CommandPatterns.BroadcastEnd]: () => ({ ok: true }),
    });
    commands = new NatsCommandClient(natsConnectionOptions(cfg, 'ingest'), cfg.commandTimeoutMs, prefix);
    channels = new ChannelManager(cfg, commands, log, media);
    const created = createNms('127.0.0.1', port, log);
    nms = created.nms;
    nms.on('postPublish', (s) => channels.publish(s, 'channel-1', 'alice', 'hash', KEY, log));
    await created.listen();
  });

  after(async () => {
    publisher?.child.kill('SIGKILL');
    await channels.shutdown();
    await nms.stop();
    await commands.close();
    await fake.close();
  });

  void it('opens the channel on the first init, sends parts, ends and closes it after the cleanup delay', async () => {
    publisher = publishTestStream(`rtmp://127.0.0.1:${await nmsPort(nms)}/live/${KEY}`, 20, { preset: 'ultrafast' });
    await waitUntil('parts of alice', () => ((media.channels.get('alice')?.rendition('source').parts.length ?? 0) >= 5 ? true : undefined), 20_000);
    const start = await fake.waitFor(CommandPatterns.BroadcastStart);
    const channel = media.channels.get('alice')!;
    assert.deepEqual([...media.channels.keys()], ['alice'], 'the store channel is the public username, never the key');
    assert.deepEqual([...channel.renditions.keys()], ['source']);
    const source = channel.rendition('source');
    assert.equal(source.inits.length, 1);
    assert.deepEqual([source.inits[0]!.descriptor.width, source.inits[0]!.descriptor.height], [640, 360]);
    const health = channels.health()[0]!;
    assert.equal(health.packager.mode, 'passthrough');
    assert.deepEqual(health.packager.renditions, ['source']);
    assert.ok(health.packager.parts >= 5);
    await channels.shutdown();
    const end = await fake.waitFor(CommandPatterns.BroadcastEnd);
    assert.equal(end.data['broadcastId'], start.data['broadcastId']);
    assert.equal(channel.ended, 1);
    assert.deepEqual(media.closed, [{ username: 'alice', afterMs: 1234 }]);
  });
});

/** The RTMP port NMS listens on. */
async function nmsPort(server: NmsServer): Promise<number> {
  const address = await waitUntil('RTMP address', () => server.rtmpServer.tcpServer?.address() ?? undefined);
  return typeof address === 'string' ? Number(address.split(':').at(-1)) : address.port;
}
