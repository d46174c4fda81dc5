/**
 * One ingest under test: the fake command side on a per-run subject prefix, a temporary MEDIA_DIR and RECORDINGS_DIR, free RTMP/HTTP
 * ports and `dist/main.js` started against them and polled until `/ready` answers 200. Shared by the ingest e2e
 * tests (ingest, metrics, admin-health).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandPatterns } from '@eventcast/events';
import { hashStreamKey, ProofReplayCache, verifyPublishProof } from '@eventcast/platform';
import { publishProofSchema } from '@eventcast/contracts';
import { FakeCommandSide, type FakeHandlers } from './fake-command-side.js';
import { freePort, rawRequest, startIngestProcess, waitUntil, type IngestProcess } from './harness.js';

/** A fresh NATS subject prefix (`test_<8 hex>.`) so parallel runs never answer each other's commands. */
export function testSubjectPrefix(): string {
  return `test_${randomBytes(4).toString('hex')}.`;
}

/**
 * Whether the `ingest.authorize-publish` body `d` carries a valid one-time proof of `key` (as the command side checks
 * it, without the replay cache: the fake may look at one request several times).
 */
export function provesKey(d: Record<string, unknown>, key: string): boolean {
  const proof = publishProofSchema.safeParse(d['proof']);
  const channelId = typeof d['channelId'] === 'string' ? d['channelId'] : null;
  return proof.success && verifyPublishProof(proof.data, hashStreamKey(key), channelId, new ProofReplayCache()) === null;
}

/**
 * Fake command-side handlers for one channel: AuthorizePublish allows exactly `key` (by its proof) as
 * `channelId`/`username` and refuses anything else with `invalid_key`; BroadcastStart (a reply without `record`, as
 * before issue 11: the ingest keeps the recording), BroadcastEnd and BroadcastRecorded succeed;
 * IngestNodeStarted reports no ended broadcasts; HealthSample and InputRefused are recorded.
 */
export function singleChannelHandlers(channel: { key: string; channelId: string; username: string }): FakeHandlers {
  const { channelId, username } = channel;
  return {
    [CommandPatterns.AuthorizePublish]: (d) =>
      provesKey(d, channel.key) ? { allowed: true, channelId, username } : { allowed: false, reason: 'invalid_key', message: 'no' },
    [CommandPatterns.BroadcastStart]: (d) => ({ ok: true, broadcastId: d['broadcastId'] }),
    [CommandPatterns.BroadcastEnd]: () => ({ ok: true }),
    [CommandPatterns.BroadcastRecorded]: () => ({ ok: true, position: '1' }),
    [CommandPatterns.IngestNodeStarted]: () => ({ ended: 0 }),
    [CommandPatterns.HealthSample]: () => ({ ok: true, recorded: 1 }),
    [CommandPatterns.InputRefused]: () => ({ ok: true, recorded: 1 }),
  };
}

/** What {@link startIngestRun} takes. */
export interface IngestRunOptions {
  /** NATS subject prefix of the fake command side (see {@link testSubjectPrefix}); INGEST_ID is `test-<prefix>`. */
  prefix: string;
  handlers: FakeHandlers;
  /** Name prefix of the temporary MEDIA_DIR under the OS tmpdir, e.g. `ingest-metrics-`. */
  tmpPrefix: string;
  /**
   * Environment added over the defaults (HOST 127.0.0.1, INGEST_PUBLISH_GRACE_MS 1000, INGEST_HLS_CLEANUP_DELAY_MS 500,
   * LOG_LEVEL warn; the ports, MEDIA_DIR, prefix and INGEST_ID are always set by the run).
   */
  env?: Record<string, string>;
  /** RECORDINGS_DIR to use (kept by `stop`); default: a new temporary directory, deleted by `stop`. */
  recordingsDir?: string;
  /** Runs after MEDIA_DIR is created and before the process starts (e.g. to plant a stale channel directory). */
  prepareMediaDir?: (mediaDir: string) => Promise<unknown>;
}

/** A running ingest and its fake command side; `stop()` ends both and deletes MEDIA_DIR. */
export interface IngestRun {
  fake: FakeCommandSide;
  ingest: IngestProcess;
  mediaDir: string;
  /** RECORDINGS_DIR of the run (a temporary directory, deleted by `stop`). */
  recordingsDir: string;
  rtmpPort: number;
  httpPort: number;
  /** `rtmp://127.0.0.1:<rtmpPort>/live/<key>`. */
  rtmpUrl(key: string): string;
  stop(): Promise<void>;
}

/**
 * Starts the fake command side and the ingest process and waits up to 15 s for `GET /ready` → 200.
 * @throws {Error} `timed out waiting for ingest ready` when the process does not get ready.
 */
export async function startIngestRun(opts: IngestRunOptions): Promise<IngestRun> {
  const fake = await FakeCommandSide.start(opts.prefix, opts.handlers);
  const mediaDir = await mkdtemp(path.join(tmpdir(), opts.tmpPrefix));
  const recordingsDir = opts.recordingsDir ?? (await mkdtemp(path.join(tmpdir(), `${opts.tmpPrefix}rec-`)));
  await opts.prepareMediaDir?.(mediaDir);
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const ingest = startIngestProcess({
    HOST: '127.0.0.1',
    INGEST_PUBLISH_GRACE_MS: '1000',
    INGEST_HLS_CLEANUP_DELAY_MS: '500',
    LOG_LEVEL: 'warn',
    // The fake command side's server (the machine's NATS unless NATS_URL says otherwise).
    NATS_URL: process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
    ...opts.env,
    INGEST_RTMP_PORT: String(rtmpPort),
    INGEST_HTTP_PORT: String(httpPort),
    MEDIA_DIR: mediaDir,
    RECORDINGS_DIR: recordingsDir,
    INGEST_COMMAND_SUBJECT_PREFIX: opts.prefix,
    INGEST_ID: `test-${opts.prefix}`,
  });
  const run: IngestRun = {
    fake,
    ingest,
    mediaDir,
    recordingsDir,
    rtmpPort,
    httpPort,
    rtmpUrl: (key) => `rtmp://127.0.0.1:${rtmpPort}/live/${key}`,
    stop: async () => {
      await ingest.stop();
      await fake.close();
      await rm(mediaDir, { recursive: true, force: true });
      if (!opts.recordingsDir) await rm(recordingsDir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil('ingest ready', async () => ((await rawRequest(httpPort, '/ready')).status === 200 ? true : undefined), 15_000);
  } catch (err) {
    await run.stop();
    throw err;
  }
  return run;
}
