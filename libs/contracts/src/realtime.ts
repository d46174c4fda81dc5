/**
 * WebSocket transport rules of the realtime edge (`/ws`) shared by the edge and its clients: frame size limits and the
 * close codes the edge sends (RFC 6455 §7.4.1). docs/contracts.md "realtime WebSocket" is the prose of this module.
 */

/** Frames up to this size (bytes) are parsed; larger ones up to {@link WS_MAX_FRAME_BYTES} get `message_too_large`. */
export const WS_MAX_MESSAGE_BYTES = 4 * 1024;

/** Largest frame (bytes) the edge answers with an error frame; a larger one closes with {@link WS_CLOSE_CODES.messageTooBig}. */
export const WS_MAX_FRAME_BYTES = 16 * 1024;

/**
 * The transport's own cut-off (bytes, uWebSockets.js `maxPayloadLength`): a frame above it is dropped by uWS without a
 * close frame (the client sees 1006). Frames between {@link WS_MAX_FRAME_BYTES} and this size get 1009 with a reason.
 * It is also the most uWS buffers per connection while a frame arrives in pieces, so it stays small (64 KiB): at
 * 1 MiB, connections from one address holding half-sent frames could pin about a gigabyte of the edge's memory.
 */
export const WS_TRANSPORT_MAX_FRAME_BYTES = 64 * 1024;

/** Close codes sent by the edge (RFC 6455 §7.4.1), each with a reason text. */
export const WS_CLOSE_CODES = {
  /** 1001 going away: the edge is shutting down (reconnect to another edge). */
  goingAway: 1001,
  /**
   * 1007 invalid frame payload data: a text frame that is not UTF-8. Declared for clients; the uWebSockets.js transport
   * validates UTF-8 itself and drops such a connection before the edge sees the frame (1006, see docs/contracts.md).
   */
  invalidPayload: 1007,
  /**
   * 1009 message too big: a frame larger than {@link WS_MAX_FRAME_BYTES} (up to {@link WS_TRANSPORT_MAX_FRAME_BYTES};
   * above that uWS drops the connection without a close frame, 1006).
   */
  messageTooBig: 1009,
} as const;
/** One of {@link WS_CLOSE_CODES}. */
export type WsCloseCode = (typeof WS_CLOSE_CODES)[keyof typeof WS_CLOSE_CODES];
