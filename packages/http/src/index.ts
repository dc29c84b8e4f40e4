export { healthPlugin, createMetricsRegistry, perRegistry, type Check, type HealthOptions } from './health.ts';
export { discardRefusedBody, discardRequestBody } from './discard-body.ts';
