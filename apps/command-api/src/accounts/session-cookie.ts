/**
 * The refresh-token cookie (docs/contracts.md "Sessions"): `eventcast_refresh` — `__Host-eventcast_refresh` when Secure,
 * which browsers accept only Secure, on Path `/` and without Domain (no sibling subdomain can plant one) — HttpOnly (page scripts never see it),
 * SameSite=Strict (never sent on a cross-site request: no CSRF on `/auth/refresh` and `/auth/logout`), Path `/`,
 * Max-Age = the session's idle lifetime, and Secure when the request came over TLS — directly, or through a proxy listed
 * in `TRUSTED_PROXIES` that says `X-Forwarded-Proto: https` — or always/never by `AUTH_COOKIE_SECURE`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REFRESH_COOKIE_NAME, SECURE_REFRESH_COOKIE_NAME } from '@eventcast/contracts';

/** `AUTH_COOKIE_SECURE`: `auto` (Secure when served over TLS), `always` or `never`. */
export type CookieSecureMode = 'auto' | 'always' | 'never';

/**
 * Reads `AUTH_COOKIE_SECURE` (`auto` by default; `true`/`always`, `false`/`never` accepted).
 * @throws {Error} on any other value.
 */
export function cookieSecureFromEnv(env: NodeJS.ProcessEnv = process.env): CookieSecureMode {
  const raw = (env['AUTH_COOKIE_SECURE'] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'auto') return 'auto';
  if (raw === 'true' || raw === 'always') return 'always';
  if (raw === 'false' || raw === 'never') return 'never';
  throw new Error('invalid configuration: AUTH_COOKIE_SECURE must be auto, always or never');
}

/**
 * The refresh token the request carries, if any (the raw cookie value; checked by the session service). Over TLS only
 * the `__Host-` cookie counts.
 */
export function refreshCookieOf(req: FastifyRequest, mode: CookieSecureMode): string | undefined {
  const value = req.cookies?.[cookieName(req, mode)];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function secure(req: FastifyRequest, mode: CookieSecureMode): boolean {
  return mode === 'always' || (mode === 'auto' && req.protocol === 'https');
}

function cookieName(req: FastifyRequest, mode: CookieSecureMode): string {
  return secure(req, mode) ? SECURE_REFRESH_COOKIE_NAME : REFRESH_COOKIE_NAME;
}

/** Sets the refresh cookie to `token`, living `maxAgeMs`. */
export function setRefreshCookie(req: FastifyRequest, reply: FastifyReply, token: string, maxAgeMs: number, mode: CookieSecureMode): void {
  void reply.setCookie(cookieName(req, mode), token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: secure(req, mode),
    path: '/',
    maxAge: Math.floor(maxAgeMs / 1000),
  });
}

/** Removes the refresh cookie (same name and attributes, expired). */
export function clearRefreshCookie(req: FastifyRequest, reply: FastifyReply, mode: CookieSecureMode): void {
  void reply.clearCookie(cookieName(req, mode), { httpOnly: true, sameSite: 'strict', secure: secure(req, mode), path: '/' });
}
