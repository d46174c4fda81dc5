import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { ChatModule } from '../chat/chat.module.js';
import type { CommandApiConfig } from '../core/config.js';
import { CONFIG } from '../core/tokens.js';
import { ClipsService } from './clips.service.js';
import { RecordingsNatsController } from './recordings-nats.controller.js';
import { AdminRetentionController, ClipsController, RecordingSettingController, VideosController } from './recordings.controller.js';
import { RecordingsService } from './recordings.service.js';
import { RetentionJob } from './retention.js';
import { createMediaStorage, MEDIA_STORAGE } from './storage.js';

/**
 * Recordings, VODs and clips on the command side (issue 11): the recording setting, the ingest's recording reports,
 * VOD and clip deletion, clip creation and the retention job, over the media storage port on RECORDINGS_DIR.
 */
@Module({
  imports: [AccountsModule, ChatModule],
  controllers: [RecordingSettingController, VideosController, ClipsController, AdminRetentionController, RecordingsNatsController],
  providers: [
    { provide: MEDIA_STORAGE, inject: [CONFIG], useFactory: (config: CommandApiConfig) => createMediaStorage(config) },
    RecordingsService,
    ClipsService,
    RetentionJob,
  ],
})
export class RecordingsModule {}
