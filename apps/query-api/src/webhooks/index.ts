/**
 * Outgoing webhooks: the module's boundary. The rest of query-api uses only what this file exports (an ESLint
 * rule in eslint.config.js forbids imports of the module's other files from outside it):
 * - {@link startWebhooks}: the dispatcher (its own durable JetStream consumer: matches events against the `webhooks`
 *   read model and enqueues one delivery per subscribed webhook) and the sender (pg-boss worker: signed POSTs with
 *   retries, every attempt in the delivery log, schema `integrations`);
 * - {@link webhookOptionsFromEnv}: its configuration;
 * - {@link WebhookDeliveriesController}: the owner's view of the delivery log over HTTP.
 * The module reads the read models (`webhooks`, `api_tokens`) through @eventcast/read-models and never writes them;
 * the projections that do are in the lib's registry. See docs/design.md, "Webhook delivery".
 */
export { startWebhooks, type RunningWebhooks } from './webhooks-runtime.js';
export { webhookOptionsFromEnv, type WebhookOptions } from './webhook-options.js';
export { WebhookDeliveriesController } from './webhook-deliveries.controller.js';
