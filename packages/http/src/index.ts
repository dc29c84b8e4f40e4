export { healthPlugin, createMetricsRegistry, type Check, type HealthOptions } from './health.ts';
export { discardRefusedBody, discardRequestBody } from './discard-body.ts';
