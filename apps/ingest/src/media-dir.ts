/**
 * Layout of MEDIA_DIR: one directory per live channel, named by the public username (never the stream key):
 * `<MEDIA_DIR>/<username>/index.m3u8` and its segments. Usernames follow `usernameSchema` of @eventcast/events
 * (3–24 of `a-z0-9_`), so a directory name can never escape MEDIA_DIR.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Same rule as `usernameSchema` in @eventcast/events. */
export const USERNAME_RE = /^[a-z0-9_]{3,24}$/;

/** `<mediaDir>/<username>`. @throws {Error} when `username` is not a valid username. */
export function channelDir(mediaDir: string, username: string): string {
  if (!USERNAME_RE.test(username)) throw new Error('invalid username for an HLS directory');
  return path.join(mediaDir, username);
}

/**
 * Removes every channel directory left in MEDIA_DIR (by a previous run that crashed) and makes sure MEDIA_DIR exists.
 * Only entries whose name is a valid username are touched. @returns the names removed.
 */
export async function removeStaleHlsDirs(mediaDir: string): Promise<string[]> {
  await mkdir(mediaDir, { recursive: true });
  const removed: string[] = [];
  for (const e of await readdir(mediaDir, { withFileTypes: true })) {
    if (e.isDirectory() && USERNAME_RE.test(e.name)) {
      await rm(path.join(mediaDir, e.name), { recursive: true, force: true });
      removed.push(e.name);
    }
  }
  return removed;
}
