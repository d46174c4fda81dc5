export * from './envelope.js';
export * from './names.js';
export * from './catalog.js';
export * from './chat.js';
export * from './audience.js';
export * from './integrations.js';
export * from './wire.js';
export * from './redact.js';
