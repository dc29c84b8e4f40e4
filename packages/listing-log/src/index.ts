export { followProjection, parseListingEvent, startListingFeed, startLogFeed, type ListingFeed, type ListingFeedOptions, type LogFeed, type LogFeedOptions } from './feed.ts';
export type { Admin, Consumer, EachBatchPayload } from './kafka-types.ts';
export { behind, committedOffsets, reached, startAfter, watermarks, type Offsets, type Watermarks } from './offsets.ts';
export { currentCollections, listingOf, loadListings, type LoadProgress } from './projection.ts';
export { projectorStart } from './start.ts';
