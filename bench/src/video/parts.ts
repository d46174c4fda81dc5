/**
 * Follows a live LL-HLS media playlist the way an LL-HLS player does (blocking reloads for the next part,
 * RFC 8216bis §6.2.5.2: `_HLS_msn` / `_HLS_part`) and records when each new part appeared, so a benchmark can tell
 * whether the server delivered every broadcast's parts on time without a browser per broadcast.
 */
import { sleep } from '../fanout/proc.js';

/** The last part a media playlist lists: media sequence number of its segment and its index there. */
export interface LastPart {
  msn: number;
  index: number;
}

/**
 * The last `EXT-X-PART` of a media playlist, or null when it lists none. Segments are counted from
 * `EXT-X-MEDIA-SEQUENCE` (0 when absent); each URI line closes a segment.
 */
export function lastPart(text: string): LastPart | null {
  let msn = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  let index = 0;
  let last: LastPart | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-PART:')) {
      last = { msn, index };
      index++;
    } else if (line && !line.startsWith('#')) {
      msn++;
      index = 0;
    }
  }
  return last;
}

/** Gaps between part arrivals (ms). */
export interface PartDelivery {
  parts: number;
  maxGapMs: number;
  p99GapMs: number;
}

/**
 * Follows `url` until `untilMs` (epoch ms): asks for the part after the last one seen with a blocking reload and
 * notes the wall time each new last part was first seen. Errors and non-200 answers are retried after 100 ms.
 * @returns the number of new parts and the largest and 99th-percentile gaps between them, in ms.
 */
export async function followParts(url: string, untilMs: number): Promise<PartDelivery> {
  const arrivals: number[] = [];
  let last: LastPart | null = null;
  while (Date.now() < untilMs) {
    const next: string = last ? `${url}${url.includes('?') ? '&' : '?'}_HLS_msn=${last.msn}&_HLS_part=${last.index + 1}` : url;
    let text: string | null;
    try {
      const r: Response = await fetch(next, { signal: AbortSignal.timeout(Math.max(100, untilMs - Date.now())) });
      text = r.ok ? await r.text() : null;
    } catch {
      text = null;
    }
    const lp: LastPart | null = text === null ? null : lastPart(text);
    if (!lp) {
      await sleep(100);
      continue;
    }
    if (!last || lp.msn > last.msn || (lp.msn === last.msn && lp.index > last.index)) {
      if (last) arrivals.push(Date.now());
      last = lp;
    }
  }
  const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] ?? t)).sort((a, b) => a - b);
  return { parts: arrivals.length, maxGapMs: gaps.at(-1) ?? 0, p99GapMs: gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * 0.99))] ?? 0 };
}
