export { EventStoreDbEventStore } from './store.js';
export { EventStoreDbSubscription, serverFilter } from './subscription.js';
