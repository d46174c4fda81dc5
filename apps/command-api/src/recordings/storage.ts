/**
 * The media storage of the command side (issue 11 item 8): the `MediaStorage` port of @eventcast/media-storage, the
 * local-disk adapter on RECORDINGS_DIR by default, and the reading of a recording's manifest
 * (`recordings/<broadcastId>/manifest.json`, `recordingManifestSchema` of @eventcast/contracts) which tells a
 * recording's channel and state without the read models.
 */
import { RECORDING_MANIFEST_FILE, recordingKey, recordingManifestSchema, type RecordingManifest } from '@eventcast/contracts';
import { LocalDiskStorage, type MediaStorage } from '@eventcast/media-storage';
import type { CommandApiConfig } from '../core/config.js';

/** Injection token of the {@link MediaStorage}. */
export const MEDIA_STORAGE = Symbol('MEDIA_STORAGE');

/** The storage of `config`: local disk under RECORDINGS_DIR. */
export function createMediaStorage(config: Pick<CommandApiConfig, 'RECORDINGS_DIR'>): MediaStorage {
  return new LocalDiskStorage(config.RECORDINGS_DIR);
}

/**
 * The manifest of recording `broadcastId`, or null when there is none (never recorded, deleted, or not a valid
 * manifest: a file the command side cannot read is treated as absent rather than trusted).
 */
export async function readRecordingManifest(storage: MediaStorage, broadcastId: string): Promise<RecordingManifest | null> {
  const raw = await storage.get(recordingKey(broadcastId, RECORDING_MANIFEST_FILE));
  if (!raw) return null;
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = recordingManifestSchema.safeParse(json);
  return parsed.success && parsed.data.broadcastId === broadcastId ? parsed.data : null;
}
