/** zod schemas of the NATS `audience.*` requests of the realtime edge (docs/contracts.md "Analytics"). */
import { z } from 'zod';
import { viewerKeySchema } from '@eventcast/events';

/** `audience.sample`: totals of a channel over every edge at `sampledAt`, and the edge's sampling period. */
export const audienceSampleRequest = z.object({
  channelId: z.uuid(),
  viewers: z.number().int().min(0),
  chatters: z.number().int().min(0),
  sampledAt: z.iso.datetime({ offset: true }),
  intervalSeconds: z.number().int().min(1).max(3600),
});
export type AudienceSampleRequest = z.infer<typeof audienceSampleRequest>;

/** Most viewer keys in one `audience.viewers-joined` request. */
export const MAX_VIEWER_KEYS_PER_REQUEST = 500;

/** `audience.viewers-joined`: viewer keys currently watching the channel on one edge. */
export const audienceViewersJoinedRequest = z.object({
  channelId: z.uuid(),
  viewerKeys: z.array(viewerKeySchema).min(1).max(MAX_VIEWER_KEYS_PER_REQUEST),
});
export type AudienceViewersJoinedRequest = z.infer<typeof audienceViewersJoinedRequest>;
