export * from './launcher.js';
export * from './free-port.js';
export * from './nats-server.js';
export * from './nats-config.js';
export * from './database.js';
