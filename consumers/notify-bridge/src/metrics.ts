import { Counter, Gauge, type Registry } from 'prom-client';

export function createBridgeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    matchEvents: new Counter({
      name: 'notify_bridge_match_events_total',
      help: 'Records read from the matches topic, by type (found, lost, unknown) and outcome (handled; superseded: a later decision for the pair came in the same batch; stale: decided longer ago than MATCH_MAX_AGE_S; invalid: logged and skipped).',
      labelNames: ['type', 'outcome'] as const,
      registers,
    }),
    requests: new Counter({
      name: 'notify_bridge_requests_total',
      help: 'Push requests written to the requests topic (one per user and found match).',
      registers,
    }),
    skipped: new Counter({
      name: 'notify_bridge_skipped_total',
      help: 'Notifications not sent, by reason: no_device (the user has no registered device), pair_window (the user heard of the pair within PAIR_WINDOW_S), user_cap (USER_MAX_PER_HOUR reached), already_requested (the same decision handled again).',
      labelNames: ['reason'] as const,
      registers,
    }),
    titlesMissing: new Counter({
      name: 'notify_bridge_titles_missing_total',
      help: 'Notifications written without the listing\'s title (not in the projection): "your search" / "your offer".',
      registers,
    }),
    responses: new Counter({
      name: 'notify_bridge_responses_total',
      help: 'Responses of the notifier read from RESPONSE_TOPIC, by type (success, failure, copy, invalid).',
      labelNames: ['type'] as const,
      registers,
    }),
    invalidUserRecords: new Counter({
      name: 'notify_bridge_invalid_user_records_total',
      help: 'Records of USERS_TOPIC that are not valid device events (logged, then skipped).',
      registers,
    }),
    lastDecisionTime: new Gauge({
      name: 'notify_bridge_last_decision_time_seconds',
      help: 'When the newest match event handled was decided (epoch seconds).',
      registers,
    }),
  };
}

export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
