/**
 * Webhooks (issue 12): the dispatcher that fans the sealed audit chain (the outbox: every audit row
 * commits with its change) out to the endpoints and delivers with retries, Standard Webhooks
 * signatures, the SSRF guard and the endpoints' management. `src/app.ts` imports
 * `webhooks.routes.ts` directly.
 */
export { createWebhookDispatcher, type WebhookDispatcher, type DispatcherObserver } from './webhooks.dispatcher.ts';
export { createWebhooksService, type WebhooksService } from './webhooks.service.ts';
export { createSigninSummaries, type SigninSummaries } from './webhooks.summaries.ts';
export { createWebhookHttpClient, type WebhookHttpClient } from './webhooks.http.ts';
export { checkAddress, checkWebhookUrl, parseAllowlist, type EgressAllowlist } from './webhooks.address.ts';
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhooks.catalogue.ts';
export { WebhookErrors } from './webhooks.errors.ts';
export { webhooksRepository } from './webhooks.repository.ts';
