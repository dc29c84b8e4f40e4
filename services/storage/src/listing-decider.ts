/**
 * A listing's life as a decider (Emmett style): `decide(command, state)` → the
 * events that the command causes, `evolve` (= `evolveListing` of
 * @pushtech/listings) folds them into the state. Pure: no clock, no I/O; the
 * state comes from the Mongo projection, the events go to Kafka `listings`.
 *
 * One command causes at most one event, with version `state.version + 1`, so a
 * command is applied whole or not at all (see "409" in the README).
 */
import { isDeepStrictEqual } from 'node:util';
import { evolveListing, type Listing, type ListingEvent, type ListingStatus } from '@pushtech/listings';

/** What a new listing is made of; the decider adds id, owner, status and version. */
export type NewListing = Omit<Listing, 'id' | 'ownerId' | 'status' | 'version'>;

/** Fields a PATCH may change; `null` removes `description` or `expiresAt`. */
export interface ListingChanges {
  title?: string;
  description?: string | null;
  tags?: string[];
  location?: Listing['location'];
  radiusM?: number;
  follow?: boolean;
  imageIds?: string[];
  expiresAt?: string | null;
  status?: ListingStatus;
}

export type ListingCommand =
  | { type: 'createListing'; data: { id: string; ownerId: string; listing: NewListing } }
  | { type: 'changeListing'; data: { id: string; userId: string; changes: ListingChanges } }
  | { type: 'closeListing'; data: { id: string; userId: string } };

export type ListingCommandType = ListingCommand['type'];

export type RejectionCode = 'already_exists' | 'not_found' | 'forbidden' | 'closed';

/** A command the state does not allow. */
export class ListingRejected extends Error {
  readonly code: RejectionCode;
  constructor(code: RejectionCode, message: string) {
    super(message);
    this.name = 'ListingRejected';
    this.code = code;
  }
}

export type ListingState = Listing | null;

export const initialState = (): ListingState => null;

export function evolve(state: ListingState, event: ListingEvent): ListingState {
  return evolveListing(state, event);
}

export function decide(command: ListingCommand, state: ListingState): ListingEvent[] {
  switch (command.type) {
    case 'createListing':
      return createListing(command.data, state);
    case 'changeListing':
      return changeListing(command.data, state);
    case 'closeListing':
      return closeListing(command.data, state);
  }
}

export const listingDecider = { decide, evolve, initialState };

function createListing({ id, ownerId, listing }: Extract<ListingCommand, { type: 'createListing' }>['data'], state: ListingState): ListingEvent[] {
  if (state !== null) throw new ListingRejected('already_exists', `listing ${id} already exists`);
  const created: Listing = withoutUndefined({ ...listing, id, ownerId, status: 'active', version: 1 });
  return [{ type: 'listing.created', data: created }];
}

/** The listing as its owner may change it: exists, is theirs, is not closed. */
function ownedOpenListing(id: string, userId: string, state: ListingState): Listing {
  if (state === null) throw new ListingRejected('not_found', `listing ${id} does not exist`);
  if (state.ownerId !== userId) throw new ListingRejected('forbidden', `listing ${id} belongs to another user`);
  if (state.status === 'closed') throw new ListingRejected('closed', `listing ${id} is closed: it cannot change any more`);
  return state;
}

const FIELDS = ['title', 'description', 'tags', 'location', 'radiusM', 'follow', 'imageIds', 'expiresAt'] as const;

function changeListing({ id, userId, changes }: Extract<ListingCommand, { type: 'changeListing' }>['data'], state: ListingState): ListingEvent[] {
  const current = ownedOpenListing(id, userId, state);
  const version = current.version + 1;

  const edited: Listing = { ...current };
  for (const field of FIELDS) {
    const value = changes[field];
    if (value === undefined) continue;
    if (value === null) delete edited[field as 'description' | 'expiresAt'];
    else (edited as unknown as Record<string, unknown>)[field] = value;
  }
  const changed = FIELDS.filter((field) => !isDeepStrictEqual(edited[field], current[field]));
  const targetStatus = changes.status ?? current.status;
  const statusChanges = targetStatus !== current.status;

  if (changed.length === 0 && !statusChanges) return [];
  if (changed.length === 0) {
    if (targetStatus === 'closed') return [{ type: 'listing.closed', data: { id, version } }];
    if (targetStatus === 'paused') return [{ type: 'listing.paused', data: { id, version } }];
    return [{ type: 'listing.resumed', data: { id, version } }];
  }
  if (!statusChanges && changed.length === 1 && changed[0] === 'location') {
    return [{ type: 'listing.moved', data: { id, location: edited.location, version } }];
  }
  return [{ type: 'listing.updated', data: withoutUndefined({ ...edited, status: targetStatus, version }) }];
}

function closeListing({ id, userId }: Extract<ListingCommand, { type: 'closeListing' }>['data'], state: ListingState): ListingEvent[] {
  if (state !== null && state.ownerId === userId && state.status === 'closed') return []; // closing twice changes nothing
  const current = ownedOpenListing(id, userId, state);
  return [{ type: 'listing.closed', data: { id, version: current.version + 1 } }];
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
