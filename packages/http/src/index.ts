export { healthPlugin, createMetricsRegistry, type Check, type HealthOptions } from './health.ts';
export { discardRequestBody } from './discard-body.ts';
