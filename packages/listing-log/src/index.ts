export { followProjection, parseListingEvent, startListingFeed, startLogFeed, type ListingFeed, type ListingFeedOptions, type LogFeed, type LogFeedOptions } from './feed.ts';
/** The admin handle of @pushtech/kafka, under the name the services know it by. */
export type { KafkaAdmin as Admin } from '@pushtech/kafka';
export { behind, committedOffsets, reached, startAfter, watermarks, type Offsets, type Watermarks } from './offsets.ts';
export { currentCollections, listingOf, loadListings, type LoadProgress } from './projection.ts';
export { projectorStart } from './start.ts';
