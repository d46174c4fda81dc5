/**
 * Restream target URLs (issue 10 item 7): `rtmp://` or `rtmps://` server URLs (WHATWG URL parsing) of at most
 * {@link RESTREAM_URL_MAX_LENGTH} characters, without credentials, query or fragment; the stream key is a separate
 * field. Against server-side request forgery a host that is `localhost` or a private, loopback or link-local IP
 * literal is refused unless the deployment allows it (RESTREAM_ALLOW_PRIVATE_TARGETS); the host is judged as the WHATWG
 * URL parser normalises it for a special scheme (`new URL('http://' + host).hostname`, WHATWG URL "IPv4 parser"), so
 * `2130706433`, `0x7f000001` or `127.1` count as 127.0.0.1 — `rtmp:` is not a special scheme, so its own hostname
 * stays as typed while ffmpeg's resolver (inet_aton) would read it as the address. Names that resolve to such
 * addresses are refused by the ingest after DNS resolution, before it connects. The URL is stored and shown in clear,
 * so a path that contains the target's stream key is refused.
 */
import { RESTREAM_URL_MAX_LENGTH } from '@eventcast/contracts';
import { isPrivateHostLiteral } from '@eventcast/platform';

/**
 * The host as a special-scheme URL parser reads it (IPv4 shorthands such as `127.1`, `0x7f000001`, `2130706433`
 * become dotted quads; IPv6 is compressed). @throws {Error} when it is no valid host at all.
 */
function normalisedHost(hostname: string): string {
  try {
    return new URL(`http://${hostname}`).hostname;
  } catch {
    throw new Error('url must have a valid host name or IP address');
  }
}

/**
 * Checks a restream server URL.
 * @param streamKey the key submitted with it (optional): a URL whose path contains it is refused, since the URL is
 * stored and published in clear while the key is sealed.
 * @returns the normalised URL without a trailing slash (`rtmp://host[:port]/app`).
 * @throws {Error} with the reason (a 400 for the caller).
 */
export function validateRestreamUrl(raw: string, allowPrivate = false, streamKey?: string): string {
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
  if (streamKey && url.pathname.includes(streamKey)) {
    throw new Error('url must not contain the stream key: put the stream key in the key field, not in the URL');
  }
  if (!allowPrivate && (isPrivateHostLiteral(url.hostname) || isPrivateHostLiteral(normalisedHost(url.hostname)))) {
    throw new Error('url must not point at a private, loopback or link-local address (RESTREAM_ALLOW_PRIVATE_TARGETS=true allows it)');
  }
  return url.href.replace(/\/+$/, '');
}
