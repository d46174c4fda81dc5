/**
 * Stream keys: the secret that lets OBS publish to a channel.
 *
 * Format `ec_<channelId as 32 hex>_<43 chars base64url>` (32 random bytes = 256 bits of entropy). Because the key is
 * high-entropy random data, a plain SHA-256 is a sufficient verifier (no password-stretching needed, as for API
 * tokens). The owner can read the key back: events keep an AES-256-GCM ciphertext (NIST SP 800-38D, 96-bit IV).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_RE = /^ec_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** Creates a new random stream key for a channel (UUID with or without dashes). */
export function generateStreamKey(channelId: string): string {
  const hex = channelId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error('channelId must be a UUID');
  return `ec_${hex}_${randomBytes(32).toString('base64url')}`;
}

/** Parses a stream key. @returns the channel id (dashed UUID) or null when the key is malformed. */
export function parseStreamKey(key: string): { channelId: string } | null {
  const m = KEY_RE.exec(key);
  if (!m?.[1]) return null;
  const h = m[1];
  return { channelId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}

/** SHA-256 of the key as 64 lowercase hex characters. */
export function hashStreamKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of two hex hashes of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

function secretKey(secretHex: string): Buffer {
  const k = Buffer.from(secretHex, 'hex');
  if (k.length !== 32) throw new Error('STREAM_KEY_SECRET must be 32 bytes of hex (64 characters)');
  return k;
}

/** Encrypts `plaintext` with AES-256-GCM. @returns `iv.tag.ciphertext` in base64url parts. */
export function encryptSecret(plaintext: string, secretHex: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secretKey(secretHex), iv);
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
}

/** Decrypts the output of {@link encryptSecret}. @throws {Error} when the text was tampered with or the secret differs. */
export function decryptSecret(sealed: string, secretHex: string): string {
  const [iv, tag, ct] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  if (!iv || !tag || !ct) throw new Error('malformed ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', secretKey(secretHex), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
}
