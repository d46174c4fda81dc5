/** @eventcast/media-storage — the media storage port (./port.ts) and its local-disk adapter (./local.ts). */
export * from './port.js';
export * from './local.js';
