import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { newEvent, streams, type PublishRejectionReason } from '@eventcast/events';
import { publishAuthorizationDecider, publishKeyHashOf, type EventOf, type PublishAuthorizationState, type PublishProofCheck } from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { ProofReplayCache, verifyPublishProof, type ProofRefusal } from '@eventcast/platform';
import { Aggregates } from '../../core/aggregates.js';
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
 * Runs publish authorization (`publishAuthorizationDecider` of @eventcast/domain: channel exists, the one-time proof
 * verifies against the current key's hash, channel not live) on the channel's account and broadcasts. The proof is
 * checked here, against the hash the state names (HMAC compared in constant time, so rotated keys fail; within the
 * replay window and never seen before: `verifyPublishProof` of @eventcast/platform). A refusal is recorded as
 * PublishRejected on `ingest-<channelId|unknown>` (no key, no hash, no proof) before the reply.
 */
@CommandHandler(AuthorizePublishCommand)
export class AuthorizePublishHandler implements ICommandHandler<AuthorizePublishCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly aggregates: Aggregates,
  ) {}

  /** Nonces of accepted proofs, until their window ends (this handler is a singleton). */
  private readonly replays = new ProofReplayCache();

  /** @returns the allow/refuse reply; refusals are durable before it resolves. */
  async execute({ channelId, proof, remoteAddress, metadata }: AuthorizePublishCommand): Promise<AuthorizePublishReply> {
    const state: PublishAuthorizationState =
      channelId === null
        ? publishAuthorizationDecider.initialState()
        : { account: (await this.aggregates.accounts.load(channelId)).state, broadcast: (await this.aggregates.broadcasts.load(channelId)).state };
    const keyHash = publishKeyHashOf(state);
    const check: PublishProofCheck | null = keyHash === null ? null : (verifyPublishProof(proof, keyHash, channelId, this.replays) ?? 'valid');
    const events = publishAuthorizationDecider.decide({ type: 'AuthorizePublish', channelId, remoteAddress, proof: check }, state);
    const rejected = events.find((e): e is EventOf<'PublishRejected'> => e.type === 'PublishRejected');
    if (!rejected) {
      if (channelId === null || state.account.status !== 'registered') throw new Error('publish authorization allowed a publish without a channel');
      return { allowed: true, channelId, username: state.account.username };
    }
    await this.store.append(streams.ingest(channelId), [newEvent('PublishRejected', rejected.data, metadata)], 'any');
    const { reason } = rejected.data;
    const message = reason === 'invalid_key' && check !== null && check !== 'valid' ? PROOF_MESSAGES[check] : MESSAGES[reason];
    return { allowed: false, reason, message };
  }
}
