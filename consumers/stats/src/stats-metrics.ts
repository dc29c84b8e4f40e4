import { Counter, Gauge, type Registry } from 'prom-client';

export function createStatsMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'stats_events_total',
      help: 'events read from the events topic, by what became of them (counted, duplicate, outside_window, invalid)',
      labelNames: ['result'] as const,
      registers,
    }),
    minutes: new Gauge({ name: 'stats_minutes', help: 'minutes held in memory (each with at least one event)', registers }),
    lastEventTime: new Gauge({ name: 'stats_last_event_time_seconds', help: '`time` of the newest event counted (seconds since the epoch)', registers }),
  };
}

export type StatsMetrics = ReturnType<typeof createStatsMetrics>;
