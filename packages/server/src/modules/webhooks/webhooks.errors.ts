import { defineErrors } from '../../errors/app-error.ts';

export const WebhookErrors = defineErrors({
  webhook_url_invalid: {
    status: 400,
    title: 'The webhook URL is not valid',
    description: 'An absolute https URL (http only when LATCHKEY_WEBHOOK_ALLOW_HTTP is set), without user name, password or fragment, at most 2,048 characters.',
  },
  webhook_url_refused: {
    status: 400,
    title: 'The webhook URL points at an internal address',
    description:
      'Loopback, private, link-local (cloud metadata), CGNAT, multicast and IPv6 forms of IPv4 addresses are refused (SEC-59); an operator allows internal targets with LATCHKEY_WEBHOOK_ALLOWED_TARGETS.',
  },
  webhook_event_types_invalid: {
    status: 400,
    title: 'An event type is not in the catalogue',
    description: 'Each entry is an event type from GET /webhook-event-types, a `prefix.*` pattern or `*`; at least one.',
  },
  webhook_signin_failed_invalid: {
    status: 400,
    title: 'The sign-in failure setting is not valid',
    description: 'signinFailed is {"mode": "each"}, {"mode": "sampled", "rate": r} with 0 < r ≤ 1, or {"mode": "summary"}.',
  },
  webhook_signin_succeeded_invalid: {
    status: 400,
    title: 'The successful sign-in setting is not valid',
    description: 'signinSucceeded is {"mode": "each"}, {"mode": "sampled", "rate": r} with 0 < r ≤ 1, or {"mode": "summary"}.',
  },
  webhook_endpoint_not_found: { status: 404, title: 'No such webhook endpoint' },
  webhook_delivery_not_found: { status: 404, title: 'No such delivery of this endpoint' },
  webhook_endpoint_disabled: {
    status: 409,
    title: 'The webhook endpoint is disabled',
    description: 'Enable it first (PATCH with {"enabled": true}); a disabled endpoint receives nothing, not even a test or a redelivery.',
  },
});
