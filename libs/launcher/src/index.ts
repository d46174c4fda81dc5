export * from './processes.js';
export * from './launcher.js';
export * from './supervisor.js';
export * from './free-port.js';
export * from './nats-server.js';
export * from './nats-config.js';
export * from './database.js';
export * from './proc.js';
