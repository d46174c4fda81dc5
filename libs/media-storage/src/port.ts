/**
 * The media storage port: where recordings (VOD segments, init segments, playlists), clips and their thumbnails are
 * kept once they leave the live media store's memory (issue 11 item 8). Objects are addressed by a {@link StorageKey}
 * (a relative, slash-separated path); the operations are those an S3-compatible object store also has (whole-object
 * PUT/GET/HEAD, list by prefix, delete), so an S3 adapter can implement the same port — no append, no rename of
 * directories, no partial writes visible to readers.
 *
 * Layout used by the platform (see `@eventcast/contracts` vod.ts for the public URLs):
 * - `recordings/<broadcastId>/index.m3u8` — the multivariant playlist;
 * - `recordings/<broadcastId>/<rendition>.m3u8` — a rendition's media playlist (`EXT-X-PLAYLIST-TYPE:EVENT` while
 *   live, `VOD` + `EXT-X-ENDLIST` once the broadcast ended);
 * - `recordings/<broadcastId>/<rendition>-i<gen>.mp4`, `…/<rendition>-<msn>.m4s` — init and media segments;
 * - `recordings/<broadcastId>/manifest.json` — the recording manifest (`recordingManifestSchema` of contracts);
 * - `recordings/<broadcastId>/thumbnail.jpg`;
 * - `clips/<clipId>.mp4`, `clips/<clipId>.jpg`.
 */

/** A relative object key: segments of `[a-z0-9][a-z0-9._-]*` joined by `/` (no `..`, no leading `/`), ≤ 512 chars. */
export type StorageKey = string;

const KEY_RE = /^[a-z0-9][a-z0-9._-]{0,127}(?:\/[a-z0-9][a-z0-9._-]{0,127})*$/i;

/**
 * Checks a key (or a prefix ending in `/`).
 * @throws {InvalidStorageKeyError} when it could escape the store or is not in the key grammar.
 */
export function assertStorageKey(key: string, { prefix = false }: { prefix?: boolean } = {}): void {
  const k = prefix && key.endsWith('/') ? key.slice(0, -1) : key;
  if (k.length === 0 && prefix) return;
  if (k.length > 512 || !KEY_RE.test(k) || k.split('/').some((s) => s === '.' || s === '..' || /^\.+$/.test(s))) {
    throw new InvalidStorageKeyError(key);
  }
}

/** A key outside the grammar of {@link StorageKey}. */
export class InvalidStorageKeyError extends Error {
  constructor(key: string) {
    super(`invalid storage key ${JSON.stringify(key.slice(0, 80))}`);
    this.name = 'InvalidStorageKeyError';
  }
}

/** What {@link MediaStorage.stat} and {@link MediaStorage.list} say of one object. */
export interface StoredObject {
  key: StorageKey;
  /** Size in bytes. */
  size: number;
  /** Last write, ms since the epoch. */
  modifiedAtMs: number;
}

/** The media storage port. Every method throws {@link InvalidStorageKeyError} for a bad key. */
export interface MediaStorage {
  /** Adapter name for logs and metrics (`local`, `s3`). */
  readonly kind: string;
  /** Writes a whole object; readers see either the old or the new content, never a partial one. */
  put(key: StorageKey, data: Uint8Array): Promise<void>;
  /** Moves a finished local file into the store under `key` (the local file is gone afterwards). */
  putFile(key: StorageKey, localFile: string): Promise<void>;
  /** The whole object, or null when absent. */
  get(key: StorageKey): Promise<Buffer | null>;
  /** Size and time of an object, or null when absent. */
  stat(key: StorageKey): Promise<StoredObject | null>;
  /** Every object whose key starts with `prefix` (e.g. `recordings/<id>/`), in no particular order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Deletes every object under `prefix`; @returns the bytes freed. Deleting nothing is not an error. */
  deletePrefix(prefix: string): Promise<number>;
  /** Deletes one object (absent: no error). */
  delete(key: StorageKey): Promise<void>;
  /**
   * A local file path with the object's content, for tools that read files (ffmpeg), or null when the adapter has
   * no local files (then callers `get` the object into a temporary file).
   */
  localPath(key: StorageKey): string | null;
  /** Bytes used by objects under `prefix` (default: everything). */
  usage(prefix?: string): Promise<number>;
}
