/**
 * Publish authorization (docs/design.md "Publish authorization without key material on the bus"): may an RTMP
 * publish to a channel go ahead? Decided on the channel's account (does it exist, which stream key is current) and
 * its broadcasts (is it live already), with the outcome of the ingest's one-time proof of the key checked by the
 * caller against the current key's hash (HMAC and replay window: `verifyPublishProof` of @eventcast/platform, I/O the
 * domain does not do). An allowed publish records nothing; a refused one records `PublishRejected` on
 * `ingest-<channelId|unknown>` (the reason and the publisher's address; never the key, its hash or the proof).
 *
 * The state is a fold of two streams' events (`account-<channelId>` and `broadcast-<channelId>`): the handler folds
 * each with its own decider and hands this decider the pair.
 */
import { assertNever, type Decider, type EventOf } from '../decider.js';
import { accountDecider, type AccountEvent, type AccountState } from '../account/account.decider.js';
import { broadcastDecider, type BroadcastEvent, type BroadcastState } from '../broadcast/broadcast.decider.js';

/**
 * The outcome of checking the ingest's proof against the channel's current key hash: `valid`, or why not (`mismatch`:
 * not this key; `stale`: outside the time window; `replayed`: the nonce was already used). Null: not checked (the
 * channel has no key to check against).
 */
export type PublishProofCheck = 'valid' | 'mismatch' | 'stale' | 'replayed';

/** May the publisher at `remoteAddress` publish to `channelId` (null: the stream key was malformed)? */
export interface AuthorizePublish {
  type: 'AuthorizePublish';
  channelId: string | null;
  remoteAddress: string;
  /** The proof checked against {@link publishKeyHashOf}'s hash; null when there was none to check against. */
  proof: PublishProofCheck | null;
}

export type PublishAuthorizationCommand = AuthorizePublish;

/** Events folded into the state (the channel's account and broadcasts) and the one decided (`PublishRejected`). */
export type PublishAuthorizationEvent = AccountEvent | BroadcastEvent | EventOf<'PublishRejected'>;

/** The channel as a publish sees it: its account/channel and its broadcasts. */
export interface PublishAuthorizationState {
  account: AccountState;
  broadcast: BroadcastState;
}

/** The hash of the channel's current stream key, to check the proof against (null: unknown channel or no key). */
export function publishKeyHashOf(state: PublishAuthorizationState): string | null {
  return state.account.status === 'registered' ? (state.account.streamKey?.keyHash ?? null) : null;
}

/**
 * Decider of publish authorization. Never throws: a refusal is the `PublishRejected` event, with reason
 * `malformed_key` (no channel id could be read from the key), `unknown_channel` (no such account), `invalid_key` (no
 * current key, or the proof is not valid for it: wrong or rotated key, stale, replayed) or `already_live` (checked
 * last: a valid proof for a live channel). No events: allowed.
 */
export const publishAuthorizationDecider: Decider<PublishAuthorizationCommand, PublishAuthorizationEvent, PublishAuthorizationState> = {
  initialState: () => ({ account: accountDecider.initialState(), broadcast: broadcastDecider.initialState() }),

  decide(command, state) {
    const { channelId, remoteAddress, proof } = command;
    const reject = (reason: EventOf<'PublishRejected'>['data']['reason']): PublishAuthorizationEvent[] => [{ type: 'PublishRejected', data: { channelId, reason, remoteAddress } }];
    if (channelId === null) return reject('malformed_key');
    if (state.account.status !== 'registered') return reject('unknown_channel');
    if (publishKeyHashOf(state) === null || proof !== 'valid') return reject('invalid_key');
    if (state.broadcast.live) return reject('already_live');
    return [];
  },

  evolve(state, event) {
    switch (event.type) {
      case 'AccountRegistered':
      case 'StreamKeyIssued':
      case 'StreamKeyRotated':
      case 'ChannelInfoUpdated':
      case 'ChannelLatencyModeChanged':
      case 'ChannelRecordingChanged':
      case 'AllSessionsEnded':
      case 'PasswordChanged':
        return { ...state, account: accountDecider.evolve(state.account, event) };
      case 'BroadcastStarted':
      case 'BroadcastEnded':
      case 'BroadcastRecorded':
      case 'BroadcastRecordingDeleted':
        return { ...state, broadcast: broadcastDecider.evolve(state.broadcast, event) };
      case 'PublishRejected':
        return state;
      default:
        return assertNever(event);
    }
  },
};
