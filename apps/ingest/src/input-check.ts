/**
 * Refuses, right after the publish started, an input the packager cannot carry (issue 10 item 5): no video, or a
 * video codec other than H.264, or an audio codec other than AAC (`PACKAGEABLE_*_CODECS` of @eventcast/contracts;
 * the packager writes fMP4 for browsers). The encoder is told why with an RTMP `onStatus` error on its publish stream
 * (`NetStream.Publish.Rejected: <reason in words>`, `rtmpRefusalStatus`; ffmpeg prints "Server error: …"), the
 * channel is ended (its broadcast, if one was started, ends with reason `error`) and the refusal is recorded for the
 * owner (`ingest.input-refused` → `PublishInputRefused`).
 *
 * A refusal can only come after `NetStream.Publish.Start`: encoders send onMetaData and media after it. What is read,
 * as early as it arrives (node_modules/node-media-server/src/protocol/flv.js `parserTag`, server/broadcast_server.js
 * `broadcastMessage`):
 * - onMetaData (`@setDataFrame`, packet flags 5): NMS copies `videocodecid`/`audiocodecid` onto the session. A codec
 *   id outside the sets refuses at once; metadata with an audio codec and no video codec refuses `no_video`.
 * - media packets (`codec_type` 9 video, 8 audio): `codec_id` is the FLV id (7 = AVC, 10 = AAC; Adobe FLV spec v10.1
 *   §E.4.2/§E.4.3) or, for Enhanced-RTMP video, the FourCC as a 32-bit number (hvc1, av01, vp09).
 * - no video packet while the audio has covered `noVideoRefuseMs` of media time, or `noVideoRefuseMs` + 2 s of wall
 *   time passed since the publish → `no_video`.
 * Once a video packet and an audio packet were accepted, the check stops looking (a packet then costs one boolean
 * test); a publish without audio keeps its audio checked (a late audio track must be AAC too).
 */
import {
  healthAudioCodec,
  healthVideoCodec,
  PACKAGEABLE_AUDIO_CODECS,
  PACKAGEABLE_VIDEO_CODECS,
  rtmpRefusalStatus,
  type HealthAudioCodec,
  type HealthCommandReply,
  type HealthVideoCodec,
  type InputRefusalReason,
  type InputRefusedRequest,
} from '@eventcast/contracts';
import type { Logger } from '@eventcast/platform';
import { audioCodecName, videoCodecName } from './media-info.js';
import type { NmsSession } from './nms.js';
import type { MediaPacket } from './stream-health.js';
import { errorMessage } from './util.js';

const AUDIO = 8;
const VIDEO = 9;
const SCRIPT_FLAGS = 5;
/** How long a refused publisher's socket may stay half-open before it is destroyed, ms. */
const CLOSE_LINGER_MS = 2000;

/** A media packet with the codec id NMS parsed. */
interface CodecPacket extends MediaPacket {
  codec_id?: number;
}

/** The parser members of an NMS RTMP session used here (src/protocol/rtmp.js). */
interface SessionRtmp {
  streamId?: number;
  onPacketCallback?: (packet: CodecPacket) => void;
  sendStatusMessage?(sid: number, level: string, code: string, description: string): void;
}

/** What {@link InputCheck} needs. */
export interface InputCheckOptions {
  /** No video after this much audio media time (ms) → `no_video`; the wall-clock limit is this + 2 s. */
  noVideoRefuseMs: number;
  /** Ends the channel of `session` (broadcast end with reason `error`) and closes the publisher. */
  endChannel: (session: NmsSession, channelId: string) => void;
  /** Records the refusal for the owner (`CommandClient.inputRefused`). */
  record: (req: InputRefusedRequest) => Promise<HealthCommandReply>;
  log: Logger;
}

/** The codec of a video packet (FLV id or Enhanced-RTMP FourCC number), in the contract's set. */
function videoOf(id: number | undefined): HealthVideoCodec {
  return healthVideoCodec(videoCodecName(id ?? null)) ?? 'other';
}

/** The codec of an audio packet (FLV sound format; 0 is linear PCM). */
function audioOf(id: number | undefined): HealthAudioCodec {
  if (id === 0) return 'pcm';
  return healthAudioCodec(audioCodecName(id ?? null)) ?? 'other';
}

/** One publisher under watch. */
interface Watch {
  session: NmsSession;
  channelId: string;
  log: Logger;
  done: boolean;
  videoOk: boolean;
  audioOk: boolean;
  firstAudioDts: number | null;
  timer: NodeJS.Timeout | null;
}

/** See the module comment. */
export class InputCheck {
  constructor(private readonly o: InputCheckOptions) {}

  /**
   * Watches the media of `session`, a publish just accepted for `channelId` (call after the channel manager tapped it).
   * @returns false when the session has no RTMP packet callback to watch (nothing is checked then).
   */
  watch(session: NmsSession, channelId: string, log: Logger): boolean {
    const rtmp = (session as unknown as { rtmp?: SessionRtmp }).rtmp;
    const original = rtmp?.onPacketCallback;
    if (!rtmp || typeof original !== 'function') return false;
    const w: Watch = { session, channelId, log, done: false, videoOk: false, audioOk: false, firstAudioDts: null, timer: null };
    rtmp.onPacketCallback = (packet: CodecPacket) => {
      original(packet);
      if (w.done) return;
      try {
        this.inspect(w, rtmp, packet);
      } catch (err: unknown) {
        w.log.warn({ err: errorMessage(err) }, 'input check failed; input not checked');
        this.finish(w);
      }
    };
    w.timer = setTimeout(() => {
      if (!w.done && !w.videoOk && session.socket && !session.socket.destroyed) this.refuse(w, rtmp, 'no_video', null, null);
    }, this.o.noVideoRefuseMs + 2000);
    w.timer.unref();
    session.socket?.once('close', () => this.finish(w));
    return true;
  }

  private inspect(w: Watch, rtmp: SessionRtmp, p: CodecPacket): void {
    const s = w.session;
    if (p.flags === SCRIPT_FLAGS && (s.videoCodec || s.audioCodec)) {
      // onMetaData, as NMS just copied it onto the session.
      const v = s.videoCodec ? healthVideoCodec(videoCodecName(s.videoCodec)) ?? 'other' : null;
      const a = s.audioCodec ? healthAudioCodec(audioCodecName(s.audioCodec)) ?? 'other' : null;
      if (v === null && a !== null) return this.refuse(w, rtmp, 'no_video', null, a);
      if (v !== null && !PACKAGEABLE_VIDEO_CODECS.includes(v)) return this.refuse(w, rtmp, 'unsupported_video_codec', v, a);
      if (a !== null && !PACKAGEABLE_AUDIO_CODECS.includes(a)) return this.refuse(w, rtmp, 'unsupported_audio_codec', v, a);
    } else if (p.codec_type === VIDEO && !w.videoOk) {
      const v = videoOf(p.codec_id);
      if (!PACKAGEABLE_VIDEO_CODECS.includes(v)) return this.refuse(w, rtmp, 'unsupported_video_codec', v, null);
      w.videoOk = true;
    } else if (p.codec_type === AUDIO && !w.audioOk) {
      const a = audioOf(p.codec_id);
      if (!PACKAGEABLE_AUDIO_CODECS.includes(a)) return this.refuse(w, rtmp, 'unsupported_audio_codec', w.videoOk ? 'h264' : null, a);
      w.audioOk = true;
    }
    if (p.codec_type === AUDIO && !w.videoOk) {
      w.firstAudioDts ??= p.dts;
      if (p.dts - w.firstAudioDts >= this.o.noVideoRefuseMs) return this.refuse(w, rtmp, 'no_video', null, audioOf(p.codec_id));
    }
    if (w.videoOk && w.audioOk) this.finish(w);
  }

  private finish(w: Watch): void {
    w.done = true;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
  }

  /** Tells the encoder, ends the channel, records the refusal. */
  private refuse(w: Watch, rtmp: SessionRtmp, reason: InputRefusalReason, videoCodec: HealthVideoCodec | null, audioCodec: HealthAudioCodec | null): void {
    this.finish(w);
    const status = rtmpRefusalStatus(reason);
    w.log.warn({ reason, videoCodec, audioCodec }, 'publish refused: the input cannot be packaged');
    try {
      rtmp.sendStatusMessage?.(rtmp.streamId ?? 1, status.level, status.code, status.description);
    } catch (err: unknown) {
      w.log.warn({ err: errorMessage(err) }, 'could not send the refusal status');
    }
    this.o.endChannel(w.session, w.channelId);
    const socket = w.session.socket;
    if (socket) setTimeout(() => socket.destroy(), CLOSE_LINGER_MS).unref();
    const req: InputRefusedRequest = { channelId: w.channelId, reason, videoCodec, audioCodec, refusedAt: new Date().toISOString() };
    this.o.record(req).then(
      (r) => {
        if (!r.ok) w.log.warn({ code: r.code }, 'input refusal not recorded');
      },
      (err: unknown) => w.log.warn({ err: errorMessage(err) }, 'input refusal could not be recorded'),
    );
  }
}
