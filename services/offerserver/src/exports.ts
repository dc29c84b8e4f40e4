/** What other packages (the demo, e2e tests, the benchmark) may import from @pushtech/offerserver. */
export { offerserver, offerserverService, type OfferserverOptions, type RunningOfferserver } from './offerserver.ts';
export { offerserverConfigSpec, type OfferserverConfig } from './config.ts';
export { sourceView } from './routes.ts';
