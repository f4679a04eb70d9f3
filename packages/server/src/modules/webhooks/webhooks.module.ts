/**
 * Webhooks (issue 12): the outbox written in the audit row's commit, the dispatcher that fans it
 * out and delivers with retries, Standard Webhooks signatures, the SSRF guard and the endpoints'
 * management. `src/app.ts` imports `webhooks.routes.ts` directly.
 */
export { createWebhookOutbox, type WebhookOutbox } from './webhooks.outbox.ts';
export { createWebhookDispatcher, type WebhookDispatcher, type DispatcherObserver } from './webhooks.dispatcher.ts';
export { createWebhooksService, type WebhooksService } from './webhooks.service.ts';
export { createSigninFailedSummaries, type SigninFailedSummaries } from './webhooks.summaries.ts';
export { createWebhookHttpClient, type WebhookHttpClient } from './webhooks.http.ts';
export { checkAddress, checkWebhookUrl, parseAllowlist, type EgressAllowlist } from './webhooks.address.ts';
export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhooks.catalogue.ts';
export { WebhookErrors } from './webhooks.errors.ts';
export { webhooksRepository } from './webhooks.repository.ts';
