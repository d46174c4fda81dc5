/**
 * Webhook target URLs: absolute `http:` or `https:` URLs (WHATWG URL parsing, as `fetch` does) of at most 2000
 * characters, without credentials (`user:pass@` would end up in logs and in the read model) and without a fragment.
 */
import { isPrivateHostLiteral } from '@eventcast/platform';

/** Longest accepted URL. */
export const WEBHOOK_URL_MAX_LENGTH = 2000;

/**
 * Checks a webhook URL. Unless `allowPrivate`, a host that is `localhost` or a private/loopback/link-local IP literal is
 * refused too (names resolving to such addresses are refused by query-api at connect time).
 * @returns the normalised URL (`new URL(raw).href`).
 * @throws {Error} with the reason (shown to the caller as a 400).
 */
export function validateWebhookUrl(raw: string, allowPrivate = false): string {
  if (raw.length > WEBHOOK_URL_MAX_LENGTH) throw new Error(`url must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('url must be an absolute URL, e.g. https://example.org/hooks/eventcast');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`url must use http or https, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw new Error('url must not contain credentials (user:password@)');
  if (url.hash) throw new Error('url must not contain a fragment (#…)');
  if (!url.hostname) throw new Error('url must have a host');
  if (!allowPrivate && isPrivateHostLiteral(url.hostname)) {
    throw new Error('url must not point at a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)');
  }
  return url.href;
}
