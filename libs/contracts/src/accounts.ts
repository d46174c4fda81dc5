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

/** Reply of `POST /auth/register` and `POST /auth/login`: an HS256 JWT (7 days) for `Authorization: Bearer`. */
export interface AuthResult {
  token: string;
  account: AccountRef;
}

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
