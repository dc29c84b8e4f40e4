import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface NotifierMetrics {
  received: Counter<'type'>;
  rejected: Counter<'reason'>;
  outcomes: Counter<'operation' | 'status_class'>;
  sends: Counter<'status_class'>;
  webPushCalls: Counter<'status_class'>;
  webPushCallSeconds: Histogram<'status_class'>;
  webPushDeliveries: Counter;
  webPushRemoved: Counter;
  sendSeconds: Histogram<'status_class'>;
  responses: Counter<'type'>;
  responseFailures: Counter;
  dropped: Counter<'reason'>;
  partial: Counter;
  duplicates: Counter;
  queueDepth: Gauge<'producer'>;
  inFlight: Gauge;
  retriesPending: Gauge;
  rateLimitWaits: Counter;
  rateLimitWaitSeconds: Counter;
  retryAfterHolds: Counter;
  intakePaused: Gauge;
  storeFailures: Counter<'operation'>;
  requestAgeSeconds: Histogram<'status_class'>;
}

/** The notifier's series, registered on `registry` (from `createMetricsRegistry`). */
export function createNotifierMetrics(registry: Registry): NotifierMetrics {
  const registers = [registry];
  return {
    received: new Counter({ name: 'notifier_requests_total', help: 'Valid requests taken in, by type', labelNames: ['type'], registers }),
    rejected: new Counter({
      name: 'notifier_requests_rejected_total', help: 'Requests rejected before any send (not_json, invalid, unknown_style_key, unknown_type)',
      labelNames: ['reason'], registers,
    }),
    outcomes: new Counter({
      name: 'notifier_outcomes_total', help: 'Outcomes of OneSignal answers by operation applied (copy, success, failure, retry) and status class (2xx, 4xx, 5xx, other, none = no answer)',
      labelNames: ['operation', 'status_class'], registers,
    }),
    sends: new Counter({ name: 'notifier_onesignal_calls_total', help: 'Create-notification calls to OneSignal by status class of the answer', labelNames: ['status_class'], registers }),
    sendSeconds: new Histogram({
      name: 'notifier_onesignal_call_seconds', help: 'Time for OneSignal to answer a create-notification call',
      labelNames: ['status_class'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    }),
    webPushCalls: new Counter({ name: 'notifier_web_push_calls_total', help: 'Web Push calls to browsers\' push services by status class of the answer', labelNames: ['status_class'], registers }),
    webPushCallSeconds: new Histogram({
      name: 'notifier_web_push_call_seconds', help: 'Time for a push service to answer a Web Push call',
      labelNames: ['status_class'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    }),
    webPushDeliveries: new Counter({ name: 'notifier_web_push_deliveries_total', help: 'Web Push deliveries made of push requests (one per active web subscription of the users)', registers }),
    webPushRemoved: new Counter({ name: 'notifier_web_push_subscriptions_removed_total', help: 'Web Push subscriptions removed (device.removed on users) after a 404/410 from the push service', registers }),
    responses: new Counter({ name: 'notifier_responses_total', help: 'Responses Kafka acknowledged, by type', labelNames: ['type'], registers }),
    responseFailures: new Counter({ name: 'notifier_response_produce_failures_total', help: 'Failed attempts to produce responses (each retried)', registers }),
    dropped: new Counter({
      name: 'notifier_dropped_total', help: 'Requests dropped without a response (stale: a newer _connect for their response topic)',
      labelNames: ['reason'], registers,
    }),
    partial: new Counter({ name: 'notifier_partial_total', help: '2xx answers that still carried errors (e.g. invalid_aliases)', registers }),
    duplicates: new Counter({ name: 'notifier_duplicates_total', help: 'Requests ignored because one with the same uuid is already being handled', registers }),
    queueDepth: new Gauge({ name: 'notifier_queue_depth', help: 'Requests waiting for a send slot, by producer (response topic; "(none)" without one)', labelNames: ['producer'], registers }),
    inFlight: new Gauge({ name: 'notifier_in_flight', help: 'Calls to OneSignal under way', registers }),
    retriesPending: new Gauge({ name: 'notifier_retries_pending', help: 'Requests waiting for the time of their next attempt', registers }),
    rateLimitWaits: new Counter({ name: 'notifier_rate_limit_waits_total', help: 'Sends that waited for the rate limit or a Retry-After', registers }),
    rateLimitWaitSeconds: new Counter({ name: 'notifier_rate_limit_wait_seconds_total', help: 'Time sends waited for the rate limit or a Retry-After', registers }),
    retryAfterHolds: new Counter({ name: 'notifier_retry_after_holds_total', help: 'Answers whose Retry-After held every send', registers }),
    intakePaused: new Gauge({ name: 'notifier_intake_paused', help: '1 while consumption is paused because the in-memory queues are full', registers }),
    storeFailures: new Counter({ name: 'notifier_store_failures_total', help: 'Failed MongoDB writes of the retry store (each retried or left for Kafka to redeliver)', labelNames: ['operation'], registers }),
    requestAgeSeconds: new Histogram({
      name: 'notifier_request_age_seconds', help: 'From the request\'s sentAt to OneSignal\'s answer that settled it',
      labelNames: ['status_class'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers,
    }),
  };
}
