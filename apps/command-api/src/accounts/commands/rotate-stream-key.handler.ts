import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { streams } from '@eventcast/events';
import { accountDecider } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { handleCommand } from '../../core/handle-command.js';
import { CONFIG, EVENT_STORE } from '../../core/tokens.js';
import type { CommandApiConfig } from '../../core/config.js';
import { issueStreamKey } from '../stream-keys.js';
import { RotateStreamKeyCommand, type RotatedStreamKey } from './rotate-stream-key.command.js';

/** Appends StreamKeyRotated with a fresh key. @throws {DomainError} `account_not_found`. */
@CommandHandler(RotateStreamKeyCommand)
export class RotateStreamKeyHandler implements ICommandHandler<RotateStreamKeyCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
  ) {}

  /** @returns the new plaintext key and the recorded event's time. */
  async execute({ accountId, metadata }: RotateStreamKeyCommand): Promise<RotatedStreamKey> {
    const stream = streams.account(accountId);
    const { plaintext, material } = issueStreamKey(accountId, this.config.STREAM_KEY_SECRET);
    const { revision } = await handleCommand(this.store, stream, accountDecider, { type: 'RotateStreamKey', streamKey: material }, metadata);
    const [recorded] = revision === null ? [] : await this.store.readStream(stream, { from: revision, limit: 1 });
    return { streamKey: plaintext, issuedAt: recorded?.occurredAt ?? new Date() };
  }
}
