/**
 * Restream target URLs (issue 10 item 7): `rtmp://` or `rtmps://` server URLs (WHATWG URL parsing) of at most
 * {@link RESTREAM_URL_MAX_LENGTH} characters, without credentials, query or fragment; the stream key is a separate
 * field. Against server-side request forgery a host that is `localhost` or a private, loopback or link-local IP
 * literal is refused unless the deployment allows it (RESTREAM_ALLOW_PRIVATE_TARGETS); names that resolve to such
 * addresses are refused by the ingest after DNS resolution, before it connects.
 */
import { RESTREAM_URL_MAX_LENGTH } from '@eventcast/contracts';
import { isPrivateHostLiteral } from '@eventcast/platform';

/**
 * Checks a restream server URL.
 * @returns the normalised URL without a trailing slash (`rtmp://host[:port]/app`).
 * @throws {Error} with the reason (a 400 for the caller).
 */
export function validateRestreamUrl(raw: string, allowPrivate = false): string {
  if (raw.length > RESTREAM_URL_MAX_LENGTH) throw new Error(`url must be at most ${RESTREAM_URL_MAX_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error('url must be an absolute URL, e.g. rtmp://a.rtmp.youtube.com/live2');
  }
  if (url.protocol !== 'rtmp:' && url.protocol !== 'rtmps:') throw new Error(`url must use rtmp or rtmps, not ${url.protocol.replace(/:$/, '')}`);
  if (url.username || url.password) throw new Error('url must not contain credentials (user:password@)');
  if (url.search || url.hash) throw new Error('url must not contain a query or fragment; put the stream key in its own field');
  if (!url.hostname) throw new Error('url must have a host');
  if (!/^\/[A-Za-z0-9_.~/-]+$/.test(url.pathname)) throw new Error('url must name the application path, e.g. rtmp://host/live2');
  if (!allowPrivate && isPrivateHostLiteral(url.hostname)) {
    throw new Error('url must not point at a private, loopback or link-local address (RESTREAM_ALLOW_PRIVATE_TARGETS=true allows it)');
  }
  return url.href.replace(/\/+$/, '');
}
