/**
 * Account and channel HTTP shapes (docs/contracts.md "command-api HTTP", "query-api HTTP"): sign-up/login replies,
 * `GET /me`, `PUT /me/channel` and `GET /broadcasts/:id`. Times ISO-8601. Browser-safe.
 */
import type { MediaInfo } from './channel-view.js';

/** `{ id, username }` of an account (the account id is also its channel id). */
export interface AccountRef {
  id: string;
  username: string;
}

/**
 * Reply of `POST /auth/register`, `POST /auth/login` and `POST /auth/refresh` (docs/contracts.md "Sessions"): a short-lived
 * HS256 access token (JWT, {@link DEFAULT_ACCESS_TOKEN_TTL_SECONDS} by default) for `Authorization: Bearer` and the
 * realtime edge's `auth` frame. The refresh token travels only in the {@link REFRESH_COOKIE_NAME} cookie (HttpOnly).
 */
export interface AuthResult {
  token: string;
  /** When `token` expires (ISO-8601): refresh before it. */
  expiresAt: string;
  account: AccountRef;
}

/** Name of the refresh-token cookie over plain HTTP (HttpOnly, SameSite=Strict, Path `/`). */
export const REFRESH_COOKIE_NAME = 'eventcast_refresh';

/**
 * Name of the refresh-token cookie over TLS: the `__Host-` prefix (RFC 6265bis §4.1.3.2) makes browsers accept it only
 * Secure, with Path `/` and no Domain, so a sibling subdomain cannot plant or shadow it. Over TLS only this name is read.
 */
export const SECURE_REFRESH_COOKIE_NAME = `__Host-${REFRESH_COOKIE_NAME}`;

/** Default lifetime of an access token, seconds (`AUTH_ACCESS_TOKEN_TTL_SECONDS`): 15 minutes. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 900;

/**
 * After a rotation, the previous refresh token is answered with the current one (no new rotation, no revocation) for
 * this long, seconds: the reply of the rotation was lost (the tab closed or navigated mid-refresh, the network dropped
 * it), so the client still holds the old cookie. Later, or for any older token, presenting it revokes the session.
 * (The "grace period" of Okta's and Auth0's refresh-token rotation.)
 */
export const REFRESH_REUSE_GRACE_SECONDS = 30;

/** Default idle lifetime of a session, days (`AUTH_SESSION_IDLE_DAYS`): a refresh token unused this long is refused. */
export const DEFAULT_SESSION_IDLE_DAYS = 30;

/**
 * `code` of a refused `POST /auth/refresh` (401; the cookie is cleared): no or malformed cookie, or a token this platform
 * never issued (`refresh_token_invalid`); a token already rotated out — the whole session is revoked
 * (`refresh_token_reused`); a session that was logged out or revoked (`session_ended`), idle past its expiry
 * (`session_expired`), older than the account's "log out everywhere" (`session_revoked`), or unknown
 * (`session_not_found`).
 */
export const SESSION_REFUSAL_CODES = ['refresh_token_invalid', 'refresh_token_reused', 'session_ended', 'session_expired', 'session_revoked', 'session_not_found'] as const;
export type SessionRefusalCode = (typeof SESSION_REFUSAL_CODES)[number];

/** Reply of `GET /me`. */
export interface Me {
  /** Account id = channel id. */
  id: string;
  username: string;
  title: string | null;
  category: string | null;
  /** Listed in EVENTCAST_ADMINS: may use the admin pages (absent from command-api builds before the admin pages). */
  admin?: boolean;
}

/** Body of `PUT /me/channel` (each field optional; free text under the text rule, title ≤ 140 characters). */
export interface UpdateChannelRequest {
  title?: string;
  category?: string;
}

/** Reply of `PUT /me/channel`. */
export interface ChannelInfo {
  title: string | null;
  category: string | null;
}

/** `GET /broadcasts/:id`: one broadcast; `endedAt`/`endReason` are null while it is live. */
export interface BroadcastView {
  id: string;
  channelId: string;
  startedAt: string;
  endedAt: string | null;
  /** `BroadcastEndReason` (./ingest-commands.ts) once ended. */
  endReason: string | null;
  media: MediaInfo | null;
}
