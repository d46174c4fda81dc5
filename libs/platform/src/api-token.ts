/**
 * API tokens of integrations and webhook signing secrets.
 *
 * API token format: `ect_<channelId as 32 hex>_<43 chars base64url = 32 random bytes>` (the `ect_` prefix makes a
 * leaked token recognisable to secret scanners, as GitHub's `ghp_`). 256 random bits make a plain SHA-256 a sufficient
 * verifier (no password stretching needed), so only the hash is stored; the channel id in the token lets the command
 * side load the one aggregate that can know it.
 *
 * Webhook signing secrets follow the Standard Webhooks spec (https://www.standardwebhooks.com/, "Signature scheme"):
 * `whsec_` + base64 of 24–64 random bytes; the HMAC key is the base64-decoded part after the prefix.
 */
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_RE = /^ect_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** Prefix of every API token. */
export const API_TOKEN_PREFIX = 'ect_';

/** Creates a new random API token for a channel (UUID with or without dashes). @throws {Error} for a non-UUID id. */
export function generateApiToken(channelId: string): string {
  const hex = channelId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error('channelId must be a UUID');
  return `${API_TOKEN_PREFIX}${hex}_${randomBytes(32).toString('base64url')}`;
}

/** True when `value` looks like an API token at all (starts with `ect_`), well-formed or not. */
export function isApiTokenLike(value: string): boolean {
  return value.startsWith(API_TOKEN_PREFIX);
}

/** Parses an API token. @returns the channel id (dashed UUID) or null when the token is malformed. */
export function parseApiToken(token: string): { channelId: string } | null {
  const m = TOKEN_RE.exec(token);
  if (!m?.[1]) return null;
  const h = m[1];
  return { channelId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}

/** SHA-256 of the token as 64 lowercase hex characters (what events and read models keep). */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The first 12 characters (`ect_` + 8 hex), shown in token lists so the owner can tell tokens apart. */
export function apiTokenDisplayPrefix(token: string): string {
  return token.slice(0, 12);
}

/** A new Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
