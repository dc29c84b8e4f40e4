/** `@pushtech/tracker-sdk`: the platform-free core. Browsers: `./browser`; React Native: `./react-native`. */
export { createTracker, type Fetch, type Tracker, type TrackerOptions, type TrackerStats } from './tracker.ts';
export { memoryStore, type QueuedEvent, type TrackerMeta, type TrackerStore } from './store.ts';
export { distanceM, type LocationThresholds, type Position } from './location-filter.ts';
export { uuidv7 } from './uuid.ts';
