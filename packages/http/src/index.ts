export { healthPlugin, createMetricsRegistry, type Check, type HealthOptions } from './health.ts';
