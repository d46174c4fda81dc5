/**
 * The local-disk adapter of the media storage port (./port.ts): one file per object under a root directory. Writes go
 * to a temporary file in the same directory and are renamed over the target (rename(2) is atomic within a file
 * system), so a reader never sees a partial segment or playlist.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertStorageKey, type MediaStorage, type StorageKey, type StoredObject } from './port.js';

/** Temporary files carry this suffix; `list` skips them. */
const TMP_SUFFIX = '.tmp';

/** Media storage on a local directory (`RECORDINGS_DIR`). */
export class LocalDiskStorage implements MediaStorage {
  readonly kind = 'local';
  /** Absolute root directory. */
  readonly root: string;

  /** @param root directory of the store (created on the first write). */
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private file(key: StorageKey): string {
    assertStorageKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: StorageKey, data: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`;
    try {
      await writeFile(tmp, data);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async putFile(key: StorageKey, localFile: string): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    try {
      await rename(localFile, file);
    } catch (err: unknown) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // Another file system: copy, then rename within the target's.
      const tmp = `${file}.${randomBytes(6).toString('hex')}${TMP_SUFFIX}`;
      await copyFile(localFile, tmp);
      await rename(tmp, file);
      await unlink(localFile);
    }
  }

  async get(key: StorageKey): Promise<Buffer | null> {
    try {
      return await readFile(this.file(key));
    } catch (err: unknown) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async stat(key: StorageKey): Promise<StoredObject | null> {
    try {
      const s = await stat(this.file(key));
      return s.isFile() ? { key, size: s.size, modifiedAtMs: s.mtimeMs } : null;
    } catch (err: unknown) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    assertStorageKey(prefix, { prefix: true });
    // The directory holding the prefix's objects, and the name filter within it.
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const namePrefix = prefix.slice(slash + 1);
    const dir = dirKey ? path.join(this.root, ...dirKey.split('/')) : this.root;
    yield* this.walk(dir, dirKey, namePrefix);
  }

  private async *walk(dir: string, dirKey: string, namePrefix: string): AsyncIterable<StoredObject> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err: unknown) {
      if (isMissing(err)) return;
      throw err;
    }
    for (const e of entries) {
      if (!e.name.startsWith(namePrefix) || e.name.endsWith(TMP_SUFFIX)) continue;
      const key = dirKey ? `${dirKey}/${e.name}` : e.name;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        yield* this.walk(full, key, '');
      } else if (e.isFile()) {
        try {
          const s = await stat(full);
          yield { key, size: s.size, modifiedAtMs: s.mtimeMs };
        } catch (err: unknown) {
          if (!isMissing(err)) throw err;
        }
      }
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertStorageKey(prefix, { prefix: true });
    if (prefix === '' || prefix === '/') throw new Error('refusing to delete the whole media store');
    let freed = 0;
    for await (const o of this.list(prefix)) {
      await rm(this.file(o.key), { force: true });
      freed += o.size;
    }
    // A prefix naming a directory (`recordings/<id>/`): remove the directory itself too.
    if (prefix.endsWith('/')) await rm(path.join(this.root, ...prefix.slice(0, -1).split('/')), { recursive: true, force: true });
    return freed;
  }

  async delete(key: StorageKey): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  localPath(key: StorageKey): string | null {
    return this.file(key);
  }

  async usage(prefix = ''): Promise<number> {
    let bytes = 0;
    for await (const o of this.list(prefix)) bytes += o.size;
    return bytes;
  }

  /** A read stream of an object's bytes `[start, end]` (inclusive), for HTTP range answers. */
  createReadStream(key: StorageKey, range?: { start: number; end: number }): NodeJS.ReadableStream {
    return createReadStream(this.file(key), range);
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
