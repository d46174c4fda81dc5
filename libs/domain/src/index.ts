export * from './decider.js';
export * from './account/account.decider.js';
export * from './username/username.decider.js';
export * from './broadcast/broadcast.decider.js';
export * from './specification.js';
export * from './chat/chat-room.decider.js';
export * from './follows/follows.decider.js';
