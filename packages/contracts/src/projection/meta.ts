/**
 * Which Mongo collections hold storage's projections right now. A rebuild
 * fills fresh collections, then switches the one document of
 * `projection_meta`:
 * `{ _id: "current", listings: "listings_…", matches: "matches_…", devices: "devices_…", listingCells: "listing_cells_…", switchedAt }`.
 * Without it (or without a name in it: written before that collection existed) the
 * collections are `listings`, `matches`, `devices` and `listing_cells`.
 *
 * Written by storage (`npm run rebuild`); read by storage's API and projector,
 * and by everyone who reads the projection (`currentCollections` of
 * @pushtech/listing-log: the matcher, the mover, the notify bridge).
 */

export const META_COLLECTION = 'projection_meta';
export const META_ID = 'current';

export interface CollectionNames {
  listings: string;
  matches: string;
  devices: string;
  /** The nearby index: active listings by kind and H3 cell (storage's listing-cells.ts). */
  listingCells: string;
}

export const DEFAULT_COLLECTIONS: Readonly<CollectionNames> = Object.freeze({
  listings: 'listings', matches: 'matches', devices: 'devices', listingCells: 'listing_cells',
});

export interface ProjectionMetaDocument extends Partial<CollectionNames> {
  _id: string;
  /** When the rebuild switched (RFC 3339). */
  switchedAt?: string;
}

/** The collections a `projection_meta` document names (null: none written yet). */
export function collectionNamesOf(doc: ProjectionMetaDocument | null): CollectionNames {
  return {
    listings: doc?.listings ?? DEFAULT_COLLECTIONS.listings,
    matches: doc?.matches ?? DEFAULT_COLLECTIONS.matches,
    devices: doc?.devices ?? DEFAULT_COLLECTIONS.devices,
    listingCells: doc?.listingCells ?? DEFAULT_COLLECTIONS.listingCells,
  };
}

/** How many ids of the latest applied events a projection document remembers (`eventIds`: duplicates change nothing, read-your-writes). */
export const RECENT_EVENT_IDS = 16;
