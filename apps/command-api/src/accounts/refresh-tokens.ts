/**
 * Refresh tokens (docs/contracts.md "Sessions"): `<sessionId>.<counter>.<mac>`, where `mac` is the base64url
 * HMAC-SHA-256 of `<sessionId>.<counter>` under a key derived from `JWT_SECRET` with HKDF-SHA-256 (RFC 5869; info
 * `eventcast refresh token v1`). Only this platform can make one, so a counter below the session's current one is a
 * rotated-out token presented again (reuse, RFC 9700 §4.14.2), never a forgery; the event log records counters only,
 * no token or hash. Changing `JWT_SECRET` invalidates every session (as it does every access token).
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** A refresh token's parts, after its MAC was checked. */
export interface RefreshTokenClaims {
  sessionId: string;
  /** 0 at sign-in, +1 per rotation. */
  counter: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** 32 bytes of MAC in base64url without padding. */
const MAC = /^[A-Za-z0-9_-]{43}$/;
/** Counters stay far below 2^53; a longer number is not ours. */
const COUNTER = /^(0|[1-9][0-9]{0,8})$/;
/** Longest token accepted for parsing: uuid (36) + counter (9) + MAC (43) + two dots. */
export const REFRESH_TOKEN_MAX_LENGTH = 36 + 1 + 9 + 1 + 43;

/** Issues and checks refresh tokens under one secret. */
export class RefreshTokens {
  private readonly key: Buffer;

  /** @param jwtSecret the platform's `JWT_SECRET` (the key is derived from it, never the secret itself). */
  constructor(jwtSecret: string) {
    this.key = Buffer.from(hkdfSync('sha256', jwtSecret, '', 'eventcast refresh token v1', 32));
  }

  /** The token of `counter` in session `sessionId`. */
  issue(sessionId: string, counter: number): string {
    return `${sessionId}.${counter}.${this.mac(sessionId, counter).toString('base64url')}`;
  }

  /**
   * Checks a presented token (constant-time MAC comparison).
   * @returns its session id and counter, or null when it is malformed, over-long or not made by this platform.
   */
  verify(token: unknown): RefreshTokenClaims | null {
    if (typeof token !== 'string' || token.length > REFRESH_TOKEN_MAX_LENGTH) return null;
    const [sessionId, rawCounter, mac, ...rest] = token.split('.');
    if (rest.length > 0 || !sessionId || !rawCounter || !mac || !UUID.test(sessionId) || !COUNTER.test(rawCounter) || !MAC.test(mac)) return null;
    const counter = Number(rawCounter);
    const expected = this.mac(sessionId, counter);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    return { sessionId, counter };
  }

  private mac(sessionId: string, counter: number): Buffer {
    return createHmac('sha256', this.key).update(`${sessionId}.${counter}`).digest();
  }
}
