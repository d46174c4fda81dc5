/**
 * The rendition ladder (issue 10 item 3): which renditions a channel is packaged into, from the deployment setting
 * `INGEST_RENDITIONS`, the machine's cores and the source picture height.
 *
 * - `source`: the publisher's video, copied (passthrough), or re-encoded with 1-s keyframes when its keyframe
 *   interval is too long (./packager.ts). Always first, always present.
 * - encoded steps (`1080p`, `720p`, `480p`, `360p`, `240p`): libx264 `veryfast`/`zerolatency` from one decode of the
 *   source (a `split` filter), scaled to the step's height keeping the aspect ratio, at the step's bitrate
 *   ({@link LADDER_STEPS}); never upscaled: a step whose height is at least the source height is skipped.
 * - `auto` (the default): the steps of {@link AUTO_LADDER} when `os.availableParallelism()` is at least
 *   {@link AUTO_LADDER_MIN_CORES}, else `source` only. The threshold comes from the CPU cost measured in
 *   docs/design.md ("LL-HLS packager").
 */

/** One encoded ladder step. */
export interface LadderStep {
  /** Rendition name (`renditionNameSchema` of @eventcast/contracts). */
  name: string;
  /** Output picture height in pixels (width follows the source aspect ratio, rounded to even). */
  height: number;
  /** Video bitrate, kbit/s (x264 `-b:v`, `-maxrate`; `-bufsize` is one second of it). */
  videoKbps: number;
}

/**
 * The encoded steps the ladder may contain, largest first. Bitrates follow Apple's HLS authoring specification
 * (§2.3 table, 30 fps H.264) at its lower end, since the source rendition carries the top quality.
 */
export const LADDER_STEPS: readonly LadderStep[] = [
  { name: '1080p', height: 1080, videoKbps: 5000 },
  { name: '720p', height: 720, videoKbps: 2800 },
  { name: '480p', height: 480, videoKbps: 1200 },
  { name: '360p', height: 360, videoKbps: 700 },
  { name: '240p', height: 240, videoKbps: 350 },
];

/** The ladder `auto` uses on a machine with enough cores. */
export const AUTO_LADDER: readonly string[] = ['source', '720p', '480p', '360p'];

/**
 * Cores needed before `auto` adds encoded steps. Measured on this 2-core machine (docs/design.md "LL-HLS
 * packager"): the three steps of {@link AUTO_LADDER} from a 1080p30 source cost ≈ 1.3 cores per channel
 * (passthrough ≈ 2 % of a core), so below 8 cores a few ladder channels would take the whole machine.
 */
export const AUTO_LADDER_MIN_CORES = 8;

/** The parsed `INGEST_RENDITIONS` setting. */
export type RenditionsSetting = { kind: 'auto' } | { kind: 'list'; names: string[] };

/**
 * Parses `INGEST_RENDITIONS`: `auto`, or a comma-separated list starting with `source` of distinct names from
 * {@link LADDER_STEPS} (e.g. `source,720p,480p,360p`).
 * @throws {Error} naming the setting for an empty list, an unknown step, a duplicate or a missing `source`.
 */
export function parseRenditionsSetting(raw: string | undefined): RenditionsSetting {
  const v = (raw ?? '').trim();
  if (v === '' || v === 'auto') return { kind: 'auto' };
  const names = v.split(',').map((s) => s.trim());
  const known = new Set(LADDER_STEPS.map((s) => s.name));
  for (const n of names) {
    if (n !== 'source' && !known.has(n)) {
      throw new Error(`invalid configuration: INGEST_RENDITIONS has unknown rendition '${n}' (use auto, source, ${[...known].join(', ')})`);
    }
  }
  if (names[0] !== 'source') throw new Error('invalid configuration: INGEST_RENDITIONS must start with source');
  if (new Set(names).size !== names.length) throw new Error('invalid configuration: INGEST_RENDITIONS lists a rendition twice');
  return { kind: 'list', names };
}

/** The rendition names of `setting` on a machine with `cores` cores (`auto` → see {@link AUTO_LADDER_MIN_CORES}). */
export function ladderNames(setting: RenditionsSetting, cores: number): string[] {
  if (setting.kind === 'list') return [...setting.names];
  return cores >= AUTO_LADDER_MIN_CORES ? [...AUTO_LADDER] : ['source'];
}

/** One rendition as the packager's ffmpeg produces it. */
export interface RenditionPlan {
  name: string;
  /** True when encoded (a ladder step, or the source re-encoded for its keyframes). */
  transcoded: boolean;
  /** Scaled output height; null = the source size. */
  height: number | null;
  /** Video bitrate of an encoded rendition, kbit/s; null for passthrough. */
  videoKbps: number | null;
}

/**
 * Tallest re-encoded `source` (keyframe fix), lines: a taller source is scaled down to it, a smaller one kept (the
 * re-encode budget of ./packager.ts is measured for 720p–1080p).
 */
export const MAX_REENCODE_HEIGHT = 1080;

/** Bitrate of the re-encoded source when the input's is unknown, kbit/s. */
export const DEFAULT_REENCODE_KBPS = 4500;

/**
 * The renditions to produce: `source` (passthrough, or encoded at `sourceKbps` when `reencodeSource`), then every
 * listed step lower than `sourceHeight`. With an unknown source height only `source` is produced (no upscaling risk).
 */
export function planRenditions(names: readonly string[], sourceHeight: number | null, reencodeSource: boolean, sourceKbps: number | null): RenditionPlan[] {
  const plans: RenditionPlan[] = [
    {
      name: 'source',
      transcoded: reencodeSource,
      // Scaled down to MAX_REENCODE_HEIGHT when known to be taller (ffmpeg-args caps an unknown height too).
      height: reencodeSource && sourceHeight !== null && sourceHeight > MAX_REENCODE_HEIGHT ? MAX_REENCODE_HEIGHT : null,
      videoKbps: reencodeSource ? Math.max(300, Math.round(sourceKbps ?? DEFAULT_REENCODE_KBPS)) : null },
  ];
  if (sourceHeight === null) return plans;
  for (const step of LADDER_STEPS) {
    if (names.includes(step.name) && step.height < sourceHeight) {
      plans.push({ name: step.name, transcoded: true, height: step.height, videoKbps: step.videoKbps });
    }
  }
  return plans;
}
