/**
 * Pure helpers of the VOD and clip queries: opaque keyset cursors, the wall-clock window of a media time range, the
 * clip's own timeline cut out of its recording's, chat badges and query-parameter parsing. Media times in ms unless
 * named `…Seconds`; wall-clock instants in ms since the epoch.
 */
import { BadRequestException } from '@nestjs/common';
import type { TimelineRun } from '@eventcast/contracts';

/** A keyset position: a timestamp in µs since the epoch (exact for `timestamptz`) and a uuid tie-breaker. */
export interface KeysetCursor {
  micros: bigint;
  id: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Writes a cursor as base64url of `<micros>.<uuid>` (opaque to clients). */
export function encodeCursor(c: KeysetCursor): string {
  return Buffer.from(`${c.micros}.${c.id}`, 'utf8').toString('base64url');
}

/**
 * Reads a cursor written by {@link encodeCursor}.
 * @returns null when absent or empty.
 * @throws {BadRequestException} `invalid cursor` for anything else.
 */
export function parseCursor(raw: string | undefined): KeysetCursor | null {
  if (raw === undefined || raw === '') return null;
  const text = raw.length <= 200 && /^[A-Za-z0-9_-]+$/.test(raw) ? Buffer.from(raw, 'base64url').toString('utf8') : '';
  const m = /^(-?\d{1,19})\.([0-9a-f-]{36})$/i.exec(text);
  if (!m || !UUID_RE.test(m[2]!)) throw new BadRequestException({ message: 'invalid cursor: pass the nextCursor of a previous page', code: 'invalid_request' });
  return { micros: BigInt(m[1]!), id: m[2]!.toLowerCase() };
}

/**
 * Parses a page size `?limit=`: absent → `fallback`, else an integer 1–`max`.
 * @throws {BadRequestException} with the allowed range.
 */
export function parseLimit(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BadRequestException({ message: `limit must be an integer from 1 to ${max}`, code: 'invalid_request' });
  return n;
}

/**
 * Parses a media time `?from=` in seconds (a non-negative decimal, at most a week).
 * @returns ms; 0 when absent.
 * @throws {BadRequestException} for anything else.
 */
export function parseFromSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = /^\d{1,6}(?:\.\d{1,3})?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n > 7 * 24 * 3600) throw new BadRequestException({ message: 'from must be a number of seconds from 0 to 604800', code: 'invalid_request' });
  return Math.round(n * 1000);
}

/**
 * Checks a uuid path parameter.
 * @returns it lower-cased.
 * @throws {BadRequestException} `invalid <what>: must be a UUID`.
 */
export function parseUuid(raw: string, what: string): string {
  if (!UUID_RE.test(raw)) throw new BadRequestException({ message: `invalid ${what}: must be a UUID`, code: 'invalid_request' });
  return raw.toLowerCase();
}

/**
 * The wall-clock window of a replay page from media time `fromMs`: `fromWall` is the instant shown at `fromMs` (the
 * start of the next run when `fromMs` falls in a gap), `endWall` the end of the last run. `bounds` (a VOD's broadcast
 * start and end, ms) widen the window to the chat of the whole broadcast: messages sent before the first picture
 * (ffmpeg probes the input for ≈ 1 s before the first segment) are replayed at 0 when `fromMs` is 0, and those of the
 * reconnect grace period after the last picture at the end of the media (`mediaOffsetAt` clamps both). A clip passes
 * no bounds: its chat is exactly its range. @returns null for an empty timeline.
 */
export function wallWindow(timeline: readonly TimelineRun[], fromMs: number, bounds?: { startWallMs: number; endWallMs: number }): { fromWall: number; endWall: number } | null {
  const first = timeline[0];
  const last = timeline.at(-1);
  if (!first || !last) return null;
  let endWall = last.programDateTimeMs + last.durationMs;
  let fromWall = endWall;
  for (let i = 0; i < timeline.length; i++) {
    const run = timeline[i]!;
    if (fromMs >= run.offsetMs + run.durationMs) continue;
    if (fromMs <= run.offsetMs) {
      const prev = timeline[i - 1];
      fromWall = i === 0 ? first.programDateTimeMs : prev!.programDateTimeMs + prev!.durationMs;
    } else {
      fromWall = run.programDateTimeMs + (fromMs - run.offsetMs);
    }
    break;
  }
  if (bounds) {
    if (fromMs <= 0) fromWall = Math.min(fromWall, bounds.startWallMs);
    // Past the last picture: from the end of the media, the grace period's messages remain.
    if (fromWall >= endWall && bounds.endWallMs > endWall) fromWall = endWall;
    endWall = Math.max(endWall, bounds.endWallMs + 1);
  }
  return { fromWall, endWall };
}

/**
 * The timeline of a clip `[startMs, startMs + durationMs)` of a recording, media time relative to the clip's start:
 * the parts of the recording's runs inside that range. Empty when the range misses every run.
 */
export function sliceTimeline(timeline: readonly TimelineRun[], startMs: number, durationMs: number): TimelineRun[] {
  const endMs = startMs + durationMs;
  const out: TimelineRun[] = [];
  for (const run of timeline) {
    const a = Math.max(run.offsetMs, startMs);
    const b = Math.min(run.offsetMs + run.durationMs, endMs);
    if (b <= a) continue;
    out.push({ offsetMs: a - startMs, programDateTimeMs: run.programDateTimeMs + (a - run.offsetMs), durationMs: b - a });
  }
  return out;
}

/**
 * Chat badges of a replayed message from the role it was sent with (`senderRole` of ChatMessageSent): `broadcaster`
 * for the owner, `moderator`, none for viewers; `bot` when the channel's bot sent it (Twitch's badge names).
 */
export function badgesOf(role: string, bot: boolean): string[] {
  const badges = role === 'owner' ? ['broadcaster'] : role === 'moderator' ? ['moderator'] : [];
  if (bot) badges.push('bot');
  return badges;
}
