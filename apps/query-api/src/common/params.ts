/**
 * Validation of path and query parameters shared by the chat, emote and follower routes. Every helper throws
 * {@link BadRequestException} (HTTP 400) with the reasons, so the error body says what to fix.
 */
import { BadRequestException } from '@nestjs/common';
import { usernameSchema } from '@eventcast/events';

/** Largest PostgreSQL bigint, the upper bound of a global position. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * Lower-cases and checks a username path parameter.
 * @param what names the parameter in the message (`username`, `user`).
 * @throws {BadRequestException} `invalid <what>: <reasons>` when it is not 3–24 chars of `a-z0-9_`.
 */
export function parseUsername(raw: string, what = 'username'): string {
  const parsed = usernameSchema.safeParse(raw.toLowerCase());
  if (!parsed.success) throw new BadRequestException(`invalid ${what}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** A validated page request: `before` is an exclusive upper bound on global positions (null = from the newest). */
export interface PageQuery {
  before: bigint | null;
  /** 1–100. */
  limit: number;
}

/**
 * Parses `?before=<globalPosition>&limit=<n>`.
 * @param before absent or a positive decimal integer ≤ 2^63-1 (a `globalPosition` / `nextBefore` string).
 * @param limit absent (→ 50) or an integer 1–100.
 * @throws {BadRequestException} listing every invalid parameter.
 */
export function parsePage(before: string | undefined, limit: string | undefined): PageQuery {
  const reasons: string[] = [];
  let b: bigint | null = null;
  if (before !== undefined && before !== '') {
    if (/^[1-9][0-9]{0,18}$/.test(before) && BigInt(before) <= MAX_BIGINT) b = BigInt(before);
    else reasons.push('before must be a positive integer (a globalPosition)');
  }
  let l = 50;
  if (limit !== undefined && limit !== '') {
    const n = /^[0-9]{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 100) l = n;
    else reasons.push('limit must be an integer from 1 to 100');
  }
  if (reasons.length > 0) throw new BadRequestException(reasons.join('; '));
  return { before: b, limit: l };
}

/** Emote codes as in the catalog: 2–32 chars of `A-Za-z0-9_`, case-sensitive. */
export const EMOTE_CODE = /^[A-Za-z0-9_]{2,32}$/;
