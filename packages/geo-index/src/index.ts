export * from './listing-index.ts';
export * from './match.ts';
export * from './brute-force.ts';
export * from './reference-workload.ts';
