/**
 * The media-storage contract suite: one set of node:test cases every adapter of the port (./port.ts) must pass —
 * the local-disk adapter here (local.test.ts), an S3-compatible adapter wherever one is added.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidStorageKeyError, type MediaStorage } from './port.js';

/** What a contract factory returns: a ready store and how to dispose of it and its data. */
export interface MediaStorageSubject {
  storage: MediaStorage;
  cleanup(): Promise<void>;
}

/**
 * Registers `describe(name)` with the contract: put/get/stat round trip and overwrite; absent objects read as null;
 * putFile moves a file in; list by prefix (nested keys, other prefixes excluded); deletePrefix frees exactly the
 * prefix's bytes and leaves its neighbours; usage; keys that could escape the store (`..`, absolute, NUL, empty
 * segments) refused with {@link InvalidStorageKeyError}. Tests use a fresh random prefix each.
 */
export function runMediaStorageContract(name: string, factory: () => Promise<MediaStorageSubject>): void {
  void describe(name, () => {
    let subject: MediaStorageSubject;
    let s: MediaStorage;
    before(async () => {
      subject = await factory();
      s = subject.storage;
    });
    after(async () => subject.cleanup());
    const prefix = (): string => `test/${randomUUID()}`;

    void it('put then get, stat and overwrite', async () => {
      const p = prefix();
      await s.put(`${p}/a.m4s`, Buffer.from('hello'));
      assert.deepEqual(await s.get(`${p}/a.m4s`), Buffer.from('hello'));
      const st = await s.stat(`${p}/a.m4s`);
      assert.equal(st?.size, 5);
      assert.ok(st && st.modifiedAtMs > Date.now() - 60_000);
      await s.put(`${p}/a.m4s`, Buffer.from('hi'));
      assert.deepEqual(await s.get(`${p}/a.m4s`), Buffer.from('hi'));
      assert.equal(await s.get(`${p}/missing.m4s`), null);
      assert.equal(await s.stat(`${p}/missing.m4s`), null);
    });

    void it('putFile moves a local file in', async () => {
      const p = prefix();
      const dir = await mkdtemp(path.join(tmpdir(), 'storage-contract-'));
      const f = path.join(dir, 'clip.mp4');
      await writeFile(f, Buffer.alloc(1000, 7));
      await s.putFile(`${p}/clip.mp4`, f);
      assert.equal((await s.get(`${p}/clip.mp4`))?.length, 1000);
      await assert.rejects(stat(f));
      await rm(dir, { recursive: true, force: true });
    });

    void it('lists by prefix, deletes a prefix and counts usage', async () => {
      const p = prefix();
      await s.put(`${p}/rec/a.m4s`, Buffer.alloc(10));
      await s.put(`${p}/rec/sub/b.m4s`, Buffer.alloc(20));
      await s.put(`${p}/rec2/c.m4s`, Buffer.alloc(40));
      const keys: string[] = [];
      for await (const o of s.list(`${p}/rec/`)) keys.push(o.key);
      assert.deepEqual(keys.sort(), [`${p}/rec/a.m4s`, `${p}/rec/sub/b.m4s`]);
      assert.equal(await s.usage(`${p}/`), 70);
      assert.equal(await s.deletePrefix(`${p}/rec/`), 30);
      assert.equal(await s.get(`${p}/rec/a.m4s`), null);
      assert.deepEqual(await s.get(`${p}/rec2/c.m4s`), Buffer.alloc(40));
      assert.equal(await s.usage(`${p}/`), 40);
      assert.equal(await s.deletePrefix(`${p}/nothing/`), 0);
      await s.delete(`${p}/rec2/c.m4s`);
      await s.delete(`${p}/rec2/c.m4s`);
      assert.equal(await s.usage(`${p}/`), 0);
    });

    void it('refuses keys that could escape the store', async () => {
      for (const bad of ['../x', '/etc/passwd', 'a/../../x', 'a//b', 'a/./b', 'a\u0000b', '', 'a/b/', 'a\\b', '.hidden']) {
        await assert.rejects(s.put(bad, Buffer.from('x')), InvalidStorageKeyError, bad);
        await assert.rejects(s.get(bad), InvalidStorageKeyError, bad);
      }
      await assert.rejects(s.deletePrefix('../'), InvalidStorageKeyError);
    });
  });
}
