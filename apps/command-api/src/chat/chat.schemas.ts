/** zod schema of the NATS `chat.send` request (docs/chat.md). */
import { z } from 'zod';
import { usernameSchema } from '@eventcast/events';

/**
 * `chat.send`: the channel, the sender as authenticated by the realtime edge, the raw text (the edge caps frames at
 * 4 KiB; emptiness and the 500-character limit are chat rules answered with `empty` / `too_long`).
 */
export const chatSendRequest = z.object({
  channelId: z.uuid(),
  senderId: z.uuid(),
  senderName: usernameSchema,
  text: z.string().max(8192),
  correlationId: z.string().optional(),
});
export type ChatSendRequest = z.infer<typeof chatSendRequest>;
