/**
 * THE registry of read-model projections: every projection of the platform, in run order. The live projector
 * (query-api), the store catch-up, the rebuild engine (apps/ops) and the tests all take their list from here, so a
 * projection added here is projected live, caught up, rebuilt and verified alike.
 *
 * Order matters inside one batch: chat messages come before the moderation log, which reads a deleted message's
 * sender and text from them.
 */
import { AnalyticsProjection } from './projections/analytics.projection.js';
import { ApiTokensProjection } from './projections/api-tokens.projection.js';
import { AuditProjection } from './projections/audit.projection.js';
import { BroadcastsProjection } from './projections/broadcasts.projection.js';
import { ChannelsProjection } from './projections/channels.projection.js';
import { ChatMessagesProjection } from './projections/chat-messages.projection.js';
import { ChatRolesProjection } from './projections/chat-roles.projection.js';
import { ChatRoomsProjection } from './projections/chat-rooms.projection.js';
import { ClipsProjection } from './projections/clips.projection.js';
import { EmotesProjection } from './projections/emotes.projection.js';
import { FollowsProjection } from './projections/follows.projection.js';
import { ModerationLogProjection } from './projections/moderation-log.projection.js';
import type { Projection } from './projections/projection.js';
import { RestreamTargetsProjection } from './projections/restream-targets.projection.js';
import { StreamHealthProjection } from './projections/stream-health.projection.js';
import { VodsProjection } from './projections/vods.projection.js';
import { WebhooksProjection } from './projections/webhooks.projection.js';

/**
 * Fresh instances of every projection, in run order (projections keep per-batch state, so each runner gets its own).
 * @returns a new array of new projection objects; names are unique.
 */
export function createProjections(): Projection[] {
  return [
    new ChannelsProjection(),
    new BroadcastsProjection(),
    new ChatMessagesProjection(),
    new ChatRoomsProjection(),
    new ChatRolesProjection(),
    new ModerationLogProjection(),
    new EmotesProjection(),
    new FollowsProjection(),
    new AnalyticsProjection(),
    new ApiTokensProjection(),
    new WebhooksProjection(),
    new AuditProjection(),
    new StreamHealthProjection(),
    new RestreamTargetsProjection(),
    new VodsProjection(),
    new ClipsProjection(),
  ];
}

/** The names of every registered projection, in run order (checkpoint rows, status, read-your-writes). */
export function projectionNames(): string[] {
  return createProjections().map((p) => p.name);
}
