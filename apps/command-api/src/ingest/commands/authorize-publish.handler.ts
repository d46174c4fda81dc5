import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newEvent, streams, type PublishRejectionReason } from '@eventcast/events';
import { broadcastDecider } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { ProofReplayCache, verifyPublishProof, type ProofRefusal } from '@eventcast/platform';
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

/** Messages of a refused proof (all recorded as `invalid_key`: the attempt did not prove the current key). */
const PROOF_MESSAGES: Record<ProofRefusal, string> = {
  mismatch: MESSAGES.invalid_key,
  stale: 'the publish authorization is too old or from the future (check the ingest host clock)',
  replayed: 'the publish authorization was already used (replayed proof)',
};

/**
 * Checks a publish attempt: channel exists, the one-time proof verifies against the current key's hash (HMAC compared
 * in constant time, so rotated keys fail; within the replay window and never seen before: `verifyPublishProof` of
 * @eventcast/platform), channel not live. A refusal is recorded as PublishRejected on `ingest-<channelId|unknown>`
 * (no key, no hash, no proof).
 */
@CommandHandler(AuthorizePublishCommand)
export class AuthorizePublishHandler implements ICommandHandler<AuthorizePublishCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly accounts: AccountReader,
  ) {}

  /** Nonces of accepted proofs, until their window ends (this handler is a singleton). */
  private readonly replays = new ProofReplayCache();

  /** @returns the allow/refuse reply; refusals are durable before it resolves. */
  async execute({ channelId, proof, remoteAddress, metadata }: AuthorizePublishCommand): Promise<AuthorizePublishReply> {
    const reject = async (reason: PublishRejectionReason, message = MESSAGES[reason]): Promise<AuthorizePublishReply> => {
      const event = newEvent('PublishRejected', { channelId, reason, remoteAddress }, metadata);
      await this.store.append(streams.ingest(channelId), [event], 'any');
      return { allowed: false, reason, message };
    };
    if (channelId === null) return reject('malformed_key');
    const { state } = await this.accounts.load(channelId);
    if (state.status !== 'registered') return reject('unknown_channel');
    if (!state.streamKey) return reject('invalid_key');
    const refused = verifyPublishProof(proof, state.streamKey.keyHash, channelId, this.replays);
    if (refused) return reject('invalid_key', PROOF_MESSAGES[refused]);
    const broadcast = await loadAggregate(this.store, streams.broadcast(channelId), broadcastDecider);
    if (broadcast.state.live) return reject('already_live');
    return { allowed: true, channelId, username: state.username };
  }
}
