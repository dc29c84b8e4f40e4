export * from './listing.ts';
export * from './terms.ts';
export * from './geo.ts';
export * from './match-rule.ts';
export * from './cells.ts';
export * from './events.ts';
