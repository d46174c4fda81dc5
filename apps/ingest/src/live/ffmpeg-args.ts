/**
 * The packager's ffmpeg command line: one process per channel reading the channel's internal RTMP URL and writing
 * one fragmented MP4 stream per rendition to its own pipe (rendition i → file descriptor 3 + i).
 *
 * Flags (ffmpeg 5.1; measured on this machine, docs/design.md "LL-HLS packager"):
 * - input: `-rw_timeout 3000000` (node-media-server keeps players connected after the publisher left: ffmpeg exits
 *   ≈ 3 s later), `-probesize 1000000 -analyzeduration 500000` so probing ends after ≈ 0.5 s of media instead of
 *   ffmpeg's default 5 s worth of input. A smaller probesize (64 KiB) is used up by one 1080p keyframe before the
 *   AAC sequence header is read: ffmpeg then keeps the FLV tag header's 44.1 kHz for 48-kHz audio (wrong `mdhd`
 *   timescale, audio drifting off the video — measured). Not `-fflags nobuffer`: it drops the packets read while probing, so the
 *   first video sample of the first part lasted 0.7 s (measured with a 1-s GOP file);
 * - output: `-f mp4 -movflags empty_moov+default_base_moof+frag_keyframe+skip_trailer -frag_duration <µs>
 *   -flush_packets 1`: an init segment (`ftyp` + `moov`) first, then a `moof` + `mdat` fragment at every video
 *   keyframe AND whenever a track's fragment reaches the part duration (libavformat/movenc.c
 *   `mov_write_single_packet`: `frag_keyframe` and `max_fragment_duration`), flushed to the pipe at once;
 * - encoded renditions: libx264 `-preset veryfast -tune zerolatency -sc_threshold 0`, constrained bitrate, keyframes
 *   `-force_key_frames source` (aligned with the copied source's keyframes) or, when the source is re-encoded too,
 *   `-force_key_frames expr:gte(t,n_forced*K)` (every K seconds of output time, the same in every rendition);
 * - `-progress pipe:1 -stats_period 1`: machine-readable progress on stdout (./packager.ts `parseProgressBlock`).
 */
import { MAX_REENCODE_HEIGHT, type RenditionPlan } from './ladder.js';

/** What {@link packagerArgs} needs. */
export interface PackagerArgsOptions {
  /** The internal RTMP URL (contains the stream key: never log the result). */
  inputUrl: string;
  /** Maximum part duration in seconds (`HLS_PART_SECONDS`) → `-frag_duration`. */
  partSeconds: number;
  /** Renditions in output order; `renditions[i]` is written to `pipe:<3 + i>`. */
  renditions: readonly RenditionPlan[];
  /** Keyframe interval (seconds) of encoded renditions when the source itself is re-encoded. */
  keyframeSeconds: number;
}

/** The file descriptor rendition `index` is written to. */
export const renditionFd = (index: number): number => 3 + index;

/** The libx264 options of one encoded rendition (output-specific options for the output that follows). */
function x264(kbps: number, keyframes: string): string[] {
  return [
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`,
    '-sc_threshold', '0', '-force_key_frames', keyframes,
  ];
}

/**
 * Builds the argument list.
 * @throws {Error} when `renditions` is empty or does not start with the `source` rendition.
 */
export function packagerArgs(o: PackagerArgsOptions): string[] {
  if (o.renditions[0]?.name !== 'source') throw new Error('the first rendition must be source');
  const reencode = o.renditions[0].transcoded;
  const encoded = o.renditions.map((r, i) => ({ r, i })).filter(({ r }) => r.transcoded);
  const args = [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error',
    '-progress', 'pipe:1', '-stats_period', '1',
    '-rw_timeout', '3000000',
    '-probesize', '1000000', '-analyzeduration', '500000',
    '-i', o.inputUrl,
  ];
  if (encoded.length > 0) {
    // One decode of the source video, split into one branch per encoded rendition.
    const labels = encoded.map(({ i }) => `[s${i}]`).join('');
    // A re-encoded source of unknown height: at most MAX_REENCODE_HEIGHT lines (never upscaled; `\,` escapes the
    // comma inside the filter graph, ffmpeg-filters "Notes on filtergraph escaping").
    const branches = encoded.map(({ r, i }) =>
      r.height === null
        ? `[s${i}]scale=-2:min(ih\\,${MAX_REENCODE_HEIGHT}),format=yuv420p[v${i}]`
        : `[s${i}]scale=-2:${r.height},format=yuv420p[v${i}]`,
    );
    args.push('-filter_complex', [`[0:v:0]split=${encoded.length}${labels}`, ...branches].join(';'));
  }
  const keyframes = reencode ? `expr:gte(t,n_forced*${o.keyframeSeconds})` : 'source';
  const movflags = 'empty_moov+default_base_moof+frag_keyframe+skip_trailer';
  o.renditions.forEach((r, i) => {
    if (r.transcoded) args.push('-map', `[v${i}]`, ...x264(r.videoKbps ?? 1000, keyframes));
    else args.push('-map', '0:v:0', '-c:v', 'copy');
    args.push(
      '-map', '0:a:0?', '-c:a', 'copy',
      '-f', 'mp4', '-movflags', movflags, '-frag_duration', String(Math.round(o.partSeconds * 1e6)), '-flush_packets', '1',
      `pipe:${renditionFd(i)}`,
    );
  });
  return args;
}
