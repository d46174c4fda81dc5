/**
 * Keeps stream keys out of log lines (ARCHITECTURE.md invariant 4). Third-party output (node-media-server, ffmpeg)
 * names stream paths `/live/<stream key>` and URLs that contain the key; everything passes through here first.
 */

const KEY_RE = /ec_[0-9a-f]{32}_[A-Za-z0-9_-]{43}/g;
/** `/app/name` stream paths as NMS prints them (the name is the stream key). */
const STREAM_PATH_RE = /(\/[A-Za-z0-9_-]+\/)[A-Za-z0-9_-]+/g;
const NAME_PARAM_RE = /(name=)[^\s,]+/g;

/**
 * Redacts stream keys from `text`.
 * @param secrets exact strings to remove as well (e.g. a malformed key that does not match the key format).
 */
export function redact(text: string, ...secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out.replace(KEY_RE, '[redacted]');
}

/** Redacts a node-media-server log message: stream names in `/app/name` paths and `name=` fields, and keys. */
export function redactNmsMessage(text: string): string {
  return redact(text).replace(STREAM_PATH_RE, '$1[redacted]').replace(NAME_PARAM_RE, '$1[redacted]');
}
