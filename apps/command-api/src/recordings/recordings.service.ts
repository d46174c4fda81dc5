/**
 * Deleting VODs and clips (issue 11 item 6), shared by the owner's routes and the retention job: the deletion is
 * recorded first (`BroadcastRecordingDeleted` / `ClipDeleted`), then the files leave storage. A file deletion that
 * fails is only logged: the retention job deletes the files of every recording and clip whose deletion is recorded.
 */
import { Inject, Injectable } from '@nestjs/common';
import { clipKey, recordingPrefix, type RecordingDeletionReason } from '@eventcast/contracts';
import type { EventMetadata } from '@eventcast/events';
import type { MediaStorage } from '@eventcast/media-storage';
import { isAdmin, type Logger } from '@eventcast/platform';
import { AccountReader } from '../accounts/account-reader.js';
import type { CommandApiConfig } from '../core/config.js';
import { Aggregates } from '../core/aggregates.js';
import { CONFIG, LOGGER } from '../core/tokens.js';
import { MEDIA_STORAGE } from './storage.js';

/** What a deletion did: the event's global position and the bytes its files took. */
export interface DeletionOutcome {
  position: string;
  bytesFreed: number;
  /** Whether the files left storage (false: the retention job retries). */
  filesDeleted: boolean;
}

/** VOD and clip deletions. */
@Injectable()
export class RecordingsService {
  constructor(
    private readonly aggregates: Aggregates,
    @Inject(MEDIA_STORAGE) readonly storage: MediaStorage,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly accounts: AccountReader,
  ) {}

  /** Whether account `accountId` is a platform admin (`EVENTCAST_ADMINS`, `isAdmin` of @eventcast/platform). */
  async isAdminAccount(accountId: string): Promise<boolean> {
    const { state } = await this.accounts.load(accountId);
    return state.status === 'registered' && isAdmin(this.config, state.username);
  }

  /**
   * Records the deletion of VOD `broadcastId` of `channelId` (`bytesFreed`: what its files take now), then deletes
   * its files.
   * @throws {DomainError} `recording_not_found` (not a VOD: never recorded, or already deleted).
   */
  async deleteRecording(channelId: string, broadcastId: string, reason: RecordingDeletionReason, deletedBy: string | null, metadata: EventMetadata): Promise<DeletionOutcome> {
    const prefix = recordingPrefix(broadcastId);
    const bytesFreed = await this.storage.usage(prefix);
    const { position } = await this.aggregates.broadcasts.handle(channelId, { type: 'DeleteRecording', broadcastId, reason, deletedBy, bytesFreed }, metadata);
    const filesDeleted = await this.deleteFiles(() => this.storage.deletePrefix(prefix), { broadcastId, reason });
    return { position: String(position ?? ''), bytesFreed, filesDeleted };
  }

  /**
   * Records the deletion of clip `clipId`, then deletes its MP4 and thumbnail.
   * @throws {DomainError} `clip_not_found`.
   */
  async deleteClip(clipId: string, reason: RecordingDeletionReason, deletedBy: string | null, metadata: EventMetadata): Promise<DeletionOutcome> {
    const sizes = await Promise.all([this.storage.stat(clipKey(clipId, 'mp4')), this.storage.stat(clipKey(clipId, 'jpg'))]);
    const bytesFreed = sizes.reduce((n, s) => n + (s?.size ?? 0), 0);
    const { position } = await this.aggregates.clips.handle(clipId, { type: 'DeleteClip', deletedBy, reason }, metadata);
    const filesDeleted = await this.deleteFiles(() => this.deleteClipFiles(clipId), { clipId, reason });
    return { position: String(position ?? ''), bytesFreed, filesDeleted };
  }

  /** Deletes a clip's two files. */
  async deleteClipFiles(clipId: string): Promise<void> {
    await this.storage.delete(clipKey(clipId, 'mp4'));
    await this.storage.delete(clipKey(clipId, 'jpg'));
  }

  private async deleteFiles(fn: () => Promise<unknown>, what: Record<string, unknown>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      this.logger.warn({ ...what, err: (err as Error).message }, 'deletion recorded but files not deleted; the retention job retries');
      return false;
    }
  }
}
