/** zod schema of the NATS `chat.send` request (docs/chat.md). */
import { z } from 'zod';
import { chatNonceSchema } from '@eventcast/contracts';
import { usernameSchema } from '@eventcast/events';

/**
 * `chat.send`: the channel, the sender as authenticated by the realtime edge, the raw text (the edge caps frames at
 * 4 KiB; emptiness and the 500-character limit are chat rules answered with `empty` / `too_long`), and the client's
 * `nonce` (optional; with it the send is idempotent per sender, see chat-nats.controller.ts).
 */
export const chatSendRequest = z.object({
  channelId: z.uuid(),
  senderId: z.uuid(),
  senderName: usernameSchema,
  text: z.string().max(8192),
  nonce: chatNonceSchema.optional(),
  correlationId: z.string().optional(),
});
export type ChatSendRequest = z.infer<typeof chatSendRequest>;
