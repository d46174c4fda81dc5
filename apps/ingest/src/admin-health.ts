/**
 * `GET /admin/health` of the ingest HTTP server (docs/contracts.md "Admin pages"): the measured health of every live
 * channel of this node, for platform admins only. Authentication is the login JWT of command-api: HS256 with the
 * shared `JWT_SECRET`, `sub` = account id, `username` claim, expiry enforced (verified with `jose`); the username must
 * be listed in `EVENTCAST_ADMINS` (`isAdmin` of @eventcast/platform). query-api's `GET /admin/broadcasts` calls it
 * with the admin's own bearer token.
 */
import { jwtVerify } from 'jose';
import type { IngestHealthReport } from '@eventcast/contracts';
import { isAdmin } from '@eventcast/platform';
import type { ChannelHealth } from './channels.js';

/** Outcome of {@link authorizeAdmin}: the admin's username, or the HTTP status and reason to answer. */
export type AdminAuth = { ok: true; username: string } | { ok: false; status: 401 | 403; message: string };

/**
 * Checks `Authorization: Bearer <jwt>` for a platform admin.
 * @param header the raw `authorization` header (or undefined).
 * @param jwtSecret `JWT_SECRET`; @param admins `EVENTCAST_ADMINS` (lower-case usernames).
 * @returns 401 `missing bearer token` / `invalid or expired token`, 403 when the account is not an admin.
 */
export async function authorizeAdmin(header: string | undefined, jwtSecret: string, admins: readonly string[]): Promise<AdminAuth> {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) return { ok: false, status: 401, message: 'missing bearer token' };
  let username: unknown;
  let sub: unknown;
  try {
    const { payload } = await jwtVerify(match[1], new TextEncoder().encode(jwtSecret), { algorithms: ['HS256'] });
    username = payload['username'];
    sub = payload.sub;
  } catch {
    return { ok: false, status: 401, message: 'invalid or expired token' };
  }
  if (typeof username !== 'string' || typeof sub !== 'string') return { ok: false, status: 401, message: 'invalid or expired token' };
  if (!isAdmin({ EVENTCAST_ADMINS: [...admins] }, username)) {
    return { ok: false, status: 403, message: 'only platform admins (EVENTCAST_ADMINS) may read the ingest health' };
  }
  return { ok: true, username };
}

/**
 * Body of `GET /admin/health`: `{ ingestId, at, channels }`, the contract's `IngestHealthReport`
 * (`ingestHealthReportSchema` of @eventcast/contracts, ingest-health.ts), which query-api validates.
 */
export type { IngestHealthReport };

/** What the HTTP server needs to answer `GET /admin/health`. */
export interface AdminHealthOptions {
  ingestId: string;
  jwtSecret: string;
  admins: readonly string[];
  /** The live channels' health (ChannelManager.health). */
  channels: () => ChannelHealth[];
}
