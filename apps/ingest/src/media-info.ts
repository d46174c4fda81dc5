/**
 * Media information of a publish (`MediaInfo` of docs/contracts.md: codecs, pixels, frames/s, kbit/s, Hz, channels).
 *
 * First source: the publisher's `onMetaData` (FLV script data, Adobe "Video File Format Specification" v10.1 §E.5)
 * that node-media-server 4 copies onto the session (`videoCodec`, `videoWidth`, … fields). Codec ids there are FLV
 * ids (7 = AVC, 10 = AAC, …) or, from Enhanced-RTMP encoders, FourCCs (`avc1`, `hvc1`, `av01`, `vp09`, `Opus`, …)
 * sent as a string or as the 32-bit big-endian number. Fallback: ffprobe on the internal RTMP URL.
 */
import { execFile } from 'node:child_process';
import type { MediaInfo } from '@eventcast/events';

/** The publisher fields node-media-server 4 fills from onMetaData (0 until the metadata arrives). */
export interface SessionMediaFields {
  videoCodec: number | string;
  videoWidth: number;
  videoHeight: number;
  videoFramerate: number;
  videoDatarate: number;
  audioCodec: number | string;
  audioChannels: number;
  audioSamplerate: number;
}

const FLV_VIDEO: Record<number, string> = { 2: 'h263', 3: 'screenvideo', 4: 'vp6', 5: 'vp6a', 6: 'screenvideo2', 7: 'h264', 12: 'hevc', 13: 'av1' };
const FLV_AUDIO: Record<number, string> = { 0: 'pcm', 1: 'adpcm', 2: 'mp3', 3: 'pcm', 4: 'nellymoser', 5: 'nellymoser', 6: 'nellymoser', 7: 'pcm_alaw', 8: 'pcm_mulaw', 10: 'aac', 11: 'speex', 13: 'opus', 14: 'mp3' };
const FOURCC: Record<string, string> = {
  avc1: 'h264', hvc1: 'hevc', hev1: 'hevc', av01: 'av1', vp09: 'vp9', vp08: 'vp8',
  mp4a: 'aac', opus: 'opus', '.mp3': 'mp3', 'ac-3': 'ac3', 'ec-3': 'eac3', flac: 'flac',
};

function fourccName(v: number | string): string | null {
  const s = typeof v === 'number' ? Buffer.from([(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]).toString('latin1') : v;
  return FOURCC[s.toLowerCase()] ?? null;
}

/** Codec name (ffmpeg style, lower case) of an FLV/Enhanced-RTMP video codec id; null when absent or unknown. */
export function videoCodecName(id: number | string | null | undefined): string | null {
  if (id === null || id === undefined || id === 0 || id === '') return null;
  if (typeof id === 'number' && id < 256) return FLV_VIDEO[id] ?? null;
  return fourccName(id) ?? (typeof id === 'string' && /avc|264/i.test(id) ? 'h264' : null);
}

/** Codec name of an FLV/Enhanced-RTMP audio codec id; null when absent or unknown. Note FLV id 0 (PCM) is ambiguous with "unset" and maps to null. */
export function audioCodecName(id: number | string | null | undefined): string | null {
  if (id === null || id === undefined || id === 0 || id === '') return null;
  if (typeof id === 'number' && id < 256) return FLV_AUDIO[id] ?? null;
  return fourccName(id) ?? (typeof id === 'string' && /aac/i.test(id) ? 'aac' : null);
}

const posInt = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n) : null);
const posNum = (n: unknown): number | null => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.round(n * 1000) / 1000 : null);

/** True once the publisher's onMetaData has been seen on the session (any codec id set). */
export function hasSessionMetadata(s: SessionMediaFields): boolean {
  return Boolean(s.videoCodec) || Boolean(s.audioCodec);
}

/** Maps the NMS session fields to `MediaInfo`; unknown values become null (0 means "not sent" in onMetaData). */
export function mediaInfoFromSession(s: SessionMediaFields): MediaInfo {
  const hasAudio = Boolean(s.audioCodec);
  return {
    videoCodec: videoCodecName(s.videoCodec),
    audioCodec: audioCodecName(s.audioCodec),
    width: posInt(s.videoWidth),
    height: posInt(s.videoHeight),
    frameRate: posNum(s.videoFramerate),
    videoBitrateKbps: posNum(s.videoDatarate),
    audioSampleRate: hasAudio ? posInt(s.audioSamplerate) : null,
    audioChannels: hasAudio ? posInt(s.audioChannels) : null,
  };
}

/** One stream of `ffprobe -show_streams -of json`. Only the fields read here. */
interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  bit_rate?: string;
  sample_rate?: string;
  channels?: number;
}

function rate(r: string | undefined): number | null {
  if (!r) return null;
  const [a, b] = r.split('/').map(Number);
  if (a === undefined || !Number.isFinite(a)) return null;
  return posNum(b ? a / b : a);
}

/** Maps ffprobe's JSON (`{ streams: [...] }`) to `MediaInfo`. Bit rate in kbit/s (ffprobe gives bit/s). */
export function mediaInfoFromProbe(json: unknown): MediaInfo {
  const streams = (typeof json === 'object' && json !== null && Array.isArray((json as { streams?: unknown }).streams)
    ? (json as { streams: ProbeStream[] }).streams
    : []);
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  const vbr = v?.bit_rate ? Number(v.bit_rate) / 1000 : NaN;
  return {
    videoCodec: v?.codec_name ?? null,
    audioCodec: a?.codec_name ?? null,
    width: posInt(v?.width),
    height: posInt(v?.height),
    frameRate: rate(v?.avg_frame_rate) ?? rate(v?.r_frame_rate),
    videoBitrateKbps: posNum(vbr),
    audioSampleRate: posInt(a?.sample_rate ? Number(a.sample_rate) : undefined),
    audioChannels: posInt(a?.channels),
  };
}

/**
 * Probes a live URL with ffprobe (reads a few seconds of the stream).
 * @param url internal URL, e.g. `rtmp://127.0.0.1:1935/live/<key>`: it contains the stream key, so it is never logged
 *   and errors are reported without it.
 * @param timeoutMs hard limit; the process is killed after it.
 * @throws {Error} when ffprobe fails, times out or prints something that is not JSON.
 */
export function probeMedia(ffprobePath: string, url: string, timeoutMs = 10_000): Promise<MediaInfo> {
  const args = ['-v', 'error', '-rw_timeout', '5000000', '-show_streams', '-of', 'json', url];
  return new Promise((resolve, reject) => {
    execFile(ffprobePath, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout) => {
      if (err) {
        reject(new Error(`ffprobe failed (exit ${String(err.code ?? err.signal ?? 'unknown')})`));
        return;
      }
      try {
        resolve(mediaInfoFromProbe(JSON.parse(stdout) as unknown));
      } catch {
        reject(new Error('ffprobe printed no JSON'));
      }
    });
  });
}
