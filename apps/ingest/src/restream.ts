/**
 * Restream / simulcast (issue 10 item 7): while a broadcast is live, one ffmpeg per enabled target copies the
 * channel's live RTMP stream from this node (`-i <internal rtmp url> -c copy -f flv <target url>/<key>`) to another
 * RTMP(S) service.
 *
 * - Targets come from the command side (`ingest.restream-targets`) when the broadcast starts and every
 *   `INGEST_RESTREAM_POLL_MS` after (so enabling, disabling or removing a target while live takes effect within one
 *   interval — polling a request the ingest may already make was chosen over a second notification subject). Keys
 *   arrive sealed under RESTREAM_KEY_SECRET and are unsealed here (`decryptSecret` of @eventcast/platform).
 * - Each target is independent: its own child process, its own backoff (`INGEST_RESTREAM_RETRY_MIN_MS` doubling up to
 *   `INGEST_RESTREAM_RETRY_MAX_MS`, reset once it has been live for a minute); a target failing, hanging or refused
 *   never touches the packager, the publisher or another target.
 * - State changes are reported over NATS (`ingest.restream-state`, in order per target): `connecting` (ffmpeg
 *   started), `live` (ffmpeg's `-progress` reports bytes written to the target), `failed` with the reason (ffmpeg's
 *   last error line), `retrying` (backoff running), `stopped` (broadcast ended, target disabled or removed).
 * - Against server-side request forgery, the target's host is resolved first and a private, loopback or link-local
 *   address is refused (reason said) unless RESTREAM_ALLOW_PRIVATE_TARGETS; ffmpeg resolves the name again, so a DNS
 *   answer changing in between is not covered (documented limit).
 * - `rtmps://` targets are verified (certificate chain against the system CA bundle, host name): ffmpeg's `tls`
 *   protocol does not verify by default (`tls_verify` 0, `ffmpeg -h protocol=tls`); the rtmps protocol hands the
 *   output's options to the tls connection it opens (libavformat/rtmpproto.c `rtmp_open`), so `-tls_verify 1
 *   -ca_file <bundle>` before the output URL apply (checked with ffmpeg 5.1/GnuTLS: a self-signed target is refused
 *   with "Cannot open connection tls://…"). `INGEST_RESTREAM_TLS_VERIFY=false` turns it off (tests, development).
 * - Secrets: the target key, the target URL with the key, and the channel's stream key (in the input URL) are redacted
 *   from every line that is logged or reported (./redact.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import type { RestreamTargetForIngest, RestreamTargetState } from '@eventcast/contracts';
import { decryptSecret, isPrivateAddress, isPrivateHostLiteral, type Logger } from '@eventcast/platform';
import type { BroadcastObserver } from './channels.js';
import type { CommandClient } from './command-client.js';
import type { RestreamSettings } from './config.js';
import { redact } from './redact.js';
import { errorMessage } from './util.js';

/** How long a target must have been live before its backoff starts again from the minimum, ms. */
const BACKOFF_RESET_AFTER_MS = 60_000;
/** SIGTERM → SIGKILL delay when stopping a target's ffmpeg, ms. */
const KILL_AFTER_MS = 3000;
/** Longest reason reported (the contract's limit). */
const REASON_MAX = 300;

/** The system CA bundle (Debian/Ubuntu `ca-certificates`); without it GnuTLS uses its own system trust. */
export const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The output options verifying an `rtmps://` target (empty for `rtmp://` or with `verify` false): `-tls_verify 1`
 * and `-ca_file <caFile>` when that file exists.
 */
export function tlsOutputArgs(url: string, verify: boolean, caFile: string = SYSTEM_CA_FILE): string[] {
  if (!verify || !/^rtmps:\/\//i.test(url)) return [];
  return ['-tls_verify', '1', ...(existsSync(caFile) ? ['-ca_file', caFile] : [])];
}

/** What {@link Restreamer} needs. */
export interface RestreamerOptions {
  ffmpegPath: string;
  settings: RestreamSettings;
  /** RESTREAM_KEY_SECRET (64 hex): unseals the targets' keys. */
  keySecret: string;
  /** RESTREAM_ALLOW_PRIVATE_TARGETS. */
  allowPrivateTargets: boolean;
  commands: Pick<CommandClient, 'restreamTargets' | 'restreamState'>;
  log: Logger;
}

/** One running broadcast's restream. */
interface ChannelRestream {
  channelId: string;
  broadcastId: string;
  inputUrl: string;
  secret: string;
  /** Stream keys of earlier sessions of this broadcast (still redacted). */
  oldSecrets: string[];
  log: Logger;
  targets: Map<string, TargetRunner>;
  timer: NodeJS.Timeout | null;
  stopped: boolean;
  polling: boolean;
}

/** Starts and stops every live channel's restream targets; a {@link BroadcastObserver} of the channel manager. */
export class Restreamer implements BroadcastObserver {
  private readonly channels = new Map<string, ChannelRestream>();

  constructor(private readonly o: RestreamerOptions) {}

  /** Targets currently running (any state but stopped), for tests and health. */
  get runningTargets(): number {
    let n = 0;
    for (const c of this.channels.values()) n += c.targets.size;
    return n;
  }

  started(b: { channelId: string; broadcastId: string; inputUrl: string; secret: string; log: Logger }): void {
    this.ended({ channelId: b.channelId, broadcastId: '' });
    const c: ChannelRestream = {
      ...b,
      oldSecrets: [],
      log: b.log.child({ component: 'restream' }),
      targets: new Map(),
      timer: null,
      stopped: false,
      polling: false,
    };
    this.channels.set(b.channelId, c);
    void this.poll(c);
    c.timer = setInterval(() => void this.poll(c), this.o.settings.pollMs);
    c.timer.unref();
  }

  /**
   * The publisher reconnected within the grace period. With a rotated key the live stream moved to another internal
   * URL: every target's ffmpeg is restarted on it at once (reported `failed`/`retrying` with the reason, then
   * `connecting`); the same URL needs nothing (node-media-server hands the running players to the new session).
   */
  resumed(b: { channelId: string; broadcastId: string; inputUrl: string; secret: string }): void {
    const c = this.channels.get(b.channelId);
    if (!c || c.broadcastId !== b.broadcastId || c.inputUrl === b.inputUrl) return;
    c.oldSecrets.push(c.secret);
    c.inputUrl = b.inputUrl;
    c.secret = b.secret;
    for (const t of c.targets.values()) t.restartNow('the publisher reconnected with another stream key');
  }

  ended(b: { channelId: string; broadcastId: string }): void {
    const c = this.channels.get(b.channelId);
    if (!c) return;
    this.channels.delete(b.channelId);
    c.stopped = true;
    if (c.timer) clearInterval(c.timer);
    for (const t of c.targets.values()) t.stop();
    c.targets.clear();
  }

  /** Stops every target of every channel (shutdown). */
  stopAll(): void {
    for (const channelId of [...this.channels.keys()]) this.ended({ channelId, broadcastId: '' });
  }

  /** Reads the enabled targets and reconciles the running ones with them. */
  private async poll(c: ChannelRestream): Promise<void> {
    if (c.polling || c.stopped) return;
    c.polling = true;
    try {
      const { targets } = await this.o.commands.restreamTargets({ channelId: c.channelId, broadcastId: c.broadcastId });
      if (c.stopped) return;
      const wanted = new Set(targets.map((t) => t.targetId));
      for (const [id, runner] of c.targets) {
        if (!wanted.has(id)) {
          runner.stop();
          c.targets.delete(id);
        }
      }
      for (const t of targets) {
        if (c.targets.has(t.targetId)) continue;
        let key: string;
        try {
          key = decryptSecret(t.keySealed, this.o.keySecret);
        } catch (err: unknown) {
          c.log.error({ targetId: t.targetId, err: errorMessage(err) }, 'cannot unseal the restream key (RESTREAM_KEY_SECRET differs from the command side?)');
          continue;
        }
        const runner = new TargetRunner(this.o, c, t, key);
        c.targets.set(t.targetId, runner);
        runner.start();
      }
    } catch (err: unknown) {
      c.log.warn({ err: errorMessage(err) }, 'could not read the restream targets; next try at the next poll');
    } finally {
      c.polling = false;
    }
  }
}

/** One target of one broadcast: its ffmpeg, backoff and state reports. */
class TargetRunner {
  private child: ChildProcess | null = null;
  private state: RestreamTargetState | null = null;
  private stopped = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private liveSince = 0;
  /** Set by {@link restartNow}: the reason reported for the ffmpeg it killed. */
  private restartReason: string | null = null;
  private reports: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly outputUrl: string;

  constructor(
    private readonly o: RestreamerOptions,
    private readonly c: ChannelRestream,
    private readonly target: RestreamTargetForIngest,
    private readonly key: string,
  ) {
    this.backoffMs = o.settings.retryMinMs;
    this.log = c.log.child({ targetId: target.targetId, target: target.name });
    this.outputUrl = `${target.url.replace(/\/+$/, '')}/${key}`;
  }

  /** Redacts the target key, its full URL and the channel's stream key. */
  private clean(text: string): string {
    return redact(text, this.outputUrl, this.key, this.c.secret, this.c.inputUrl, ...this.c.oldSecrets);
  }

  start(): void {
    if (this.stopped) return;
    void this.run();
  }

  /** Kills the running ffmpeg so the target starts again (after the minimum backoff) on the channel's current input. */
  restartNow(reason: string): void {
    if (this.stopped) return;
    this.backoffMs = this.o.settings.retryMinMs;
    const child = this.child;
    // No ffmpeg running (waiting for a retry): the next run reads the new input anyway.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.restartReason = reason;
    child.kill('SIGKILL');
  }

  /** Stops ffmpeg (SIGTERM, SIGKILL after 3 s) and any pending retry; reports `stopped`. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }, KILL_AFTER_MS).unref();
    }
    this.report('stopped', null);
    this.log.info('restream target stopped');
  }

  private async run(): Promise<void> {
    const refused = await this.checkHost();
    if (this.stopped) return;
    if (refused) return this.failed(refused);
    this.report('connecting', null);
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-progress', 'pipe:1', '-stats_period', '1',
      '-rw_timeout', '5000000', '-i', this.c.inputUrl,
      '-map', '0', '-c', 'copy',
      '-rw_timeout', '10000000', ...tlsOutputArgs(this.outputUrl, this.o.settings.tlsVerify ?? true), '-f', 'flv', this.outputUrl,
    ];
    let child: ChildProcess;
    try {
      child = spawn(this.o.ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err: unknown) {
      return this.failed(this.clean(errorMessage(err)));
    }
    this.child = child;
    let lastError = '';
    let stderrTail = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderrTail = (stderrTail + d.toString()).slice(-4000);
      const lines = stderrTail.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
      if (lines.length > 0) lastError = lines[lines.length - 1]!;
    });
    let progress = '';
    child.stdout?.on('data', (d: Buffer) => {
      progress = (progress + d.toString()).slice(-2000);
      const m = /total_size=(\d+)/.exec(progress.slice(progress.lastIndexOf('total_size=')));
      if (m && Number(m[1]) > 0 && this.state !== 'live' && !this.stopped) {
        this.liveSince = Date.now();
        this.report('live', null);
        this.log.info('restream target live');
      }
    });
    child.once('error', (err: Error) => {
      lastError = err.message;
    });
    child.once('close', (code, signal) => {
      this.child = null;
      if (this.stopped) return;
      if (this.liveSince > 0 && Date.now() - this.liveSince >= BACKOFF_RESET_AFTER_MS) this.backoffMs = this.o.settings.retryMinMs;
      this.liveSince = 0;
      const why = this.restartReason ?? (lastError || (signal ? `ffmpeg ended by ${signal}` : `ffmpeg exited with code ${String(code)}`));
      this.restartReason = null;
      this.failed(this.clean(why));
    });
  }

  /** Reports `failed` then `retrying`, and starts again after the backoff (doubled for the next failure). */
  private failed(reason: string): void {
    if (this.stopped) return;
    const short = reason.slice(0, REASON_MAX);
    this.log.warn({ reason: short, retryInMs: this.backoffMs }, 'restream target failed');
    this.report('failed', short);
    this.report('retrying', short);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.o.settings.retryMaxMs, this.backoffMs * 2);
  }

  /** Null when the target's host may be connected to; otherwise the reason it may not. */
  private async checkHost(): Promise<string | null> {
    if (this.o.allowPrivateTargets) return null;
    let host: string;
    try {
      host = new URL(this.target.url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return 'the target URL cannot be parsed';
    }
    if (isPrivateHostLiteral(host)) return 'the target is a private, loopback or link-local address (RESTREAM_ALLOW_PRIVATE_TARGETS=false)';
    try {
      const addresses = await lookup(host, { all: true });
      if (addresses.some((a) => isPrivateAddress(a.address))) {
        return `the target host ${host} resolves to a private, loopback or link-local address (RESTREAM_ALLOW_PRIVATE_TARGETS=false)`;
      }
    } catch (err: unknown) {
      return `cannot resolve the target host ${host}: ${errorMessage(err)}`;
    }
    return null;
  }

  /** Sends a state change, in order after the previous ones; failures are logged, never thrown. */
  private report(state: RestreamTargetState, reason: string | null): void {
    this.state = state;
    const { channelId, broadcastId } = this.c;
    const targetId = this.target.targetId;
    this.reports = this.reports.then(async () => {
      try {
        const r = await this.o.commands.restreamState({ channelId, broadcastId, targetId, state, reason });
        if (!r.ok) this.log.warn({ state, code: r.code }, 'command side refused the restream state');
      } catch (err: unknown) {
        this.log.warn({ state, err: errorMessage(err) }, 'could not report the restream state');
      }
    });
  }
}
