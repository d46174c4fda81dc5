import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newEvent, streams, type PublishRejectionReason } from '@eventcast/events';
import { broadcastDecider } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { hashesEqual } from '@eventcast/platform';
import { AccountReader } from '../../accounts/account-reader.js';
import { loadAggregate } from '../../core/handle-command.js';
import { EVENT_STORE } from '../../core/tokens.js';
import { AuthorizePublishCommand, type AuthorizePublishReply } from './authorize-publish.command.js';

const MESSAGES: Record<PublishRejectionReason, string> = {
  malformed_key: 'the stream key is malformed',
  unknown_channel: 'no channel matches this stream key',
  invalid_key: 'the stream key is not valid (was it rotated?)',
  already_live: 'the channel is already live',
};

/**
 * Checks a publish attempt: channel exists, key hash equals the current key's (constant time, so rotated keys fail),
 * channel not live. A refusal is recorded as PublishRejected on `ingest-<channelId|unknown>` (no key, no hash).
 */
@CommandHandler(AuthorizePublishCommand)
export class AuthorizePublishHandler implements ICommandHandler<AuthorizePublishCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly accounts: AccountReader,
  ) {}

  /** @returns the allow/refuse reply; refusals are durable before it resolves. */
  async execute({ channelId, streamKeyHash, remoteAddress, metadata }: AuthorizePublishCommand): Promise<AuthorizePublishReply> {
    const reject = async (reason: PublishRejectionReason): Promise<AuthorizePublishReply> => {
      const event = newEvent('PublishRejected', { channelId, reason, remoteAddress }, metadata);
      await this.store.append(streams.ingest(channelId), [event], 'any');
      return { allowed: false, reason, message: MESSAGES[reason] };
    };
    if (channelId === null) return reject('malformed_key');
    const { state } = await this.accounts.load(channelId);
    if (state.status !== 'registered') return reject('unknown_channel');
    if (!state.streamKey || !hashesEqual(state.streamKey.keyHash, streamKeyHash)) return reject('invalid_key');
    const broadcast = await loadAggregate(this.store, streams.broadcast(channelId), broadcastDecider);
    if (broadcast.state.live) return reject('already_live');
    return { allowed: true, channelId, username: state.username };
  }
}
