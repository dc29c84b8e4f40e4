import { describe, expect, it } from 'vitest';
import { point, type Listing, type ListingEvent } from '@pushtech/listings';
import { decide, evolve, initialState, ListingRejected, type ListingCommand, type NewListing, type RejectionCode } from './listing-decider.ts';

/** Given events, when a command, then events (or a rejection): Emmett's DeciderSpecification, small. */
function given(...events: ListingEvent[]) {
  const state = events.reduce(evolve, initialState());
  return {
    when(command: ListingCommand) {
      const run = () => decide(command, state);
      return {
        // biome-ignore lint/suspicious/noThenProperty: given/when/then is the specification's wording; nothing awaits it
        then: (...expected: ListingEvent[]) => expect(run()).toEqual(expected),
        thenRejects: (code: RejectionCode) => {
          expect(run).toThrow(ListingRejected);
          try {
            run();
          } catch (err) {
            expect((err as ListingRejected).code).toBe(code);
          }
        },
      };
    },
  };
}

const BERLIN = point(13.405, 52.52);
const fields: NewListing = { kind: 'offer', title: 'Kinderfahrrad', tags: ['blau'], location: BERLIN, radiusM: 1_000, follow: false, imageIds: [] };
const listing: Listing = { ...fields, id: 'l1', ownerId: 'alice', status: 'active', version: 1 };
const created: ListingEvent = { type: 'listing.created', data: listing };
const change = (changes: Extract<ListingCommand, { type: 'changeListing' }>['data']['changes'], userId = 'alice'): ListingCommand =>
  ({ type: 'changeListing', data: { id: 'l1', userId, changes } });
const close = (userId = 'alice'): ListingCommand => ({ type: 'closeListing', data: { id: 'l1', userId } });

describe('listing decider', () => {
  describe('createListing', () => {
    it('creates an active listing at version 1, owned by the user', () => {
      given().when({ type: 'createListing', data: { id: 'l1', ownerId: 'alice', listing: fields } }).then(created);
    });

    it('leaves out optional fields that are not given', () => {
      const withUndefined = { ...fields, description: undefined, expiresAt: undefined } as NewListing;
      const [event] = decide({ type: 'createListing', data: { id: 'l1', ownerId: 'alice', listing: withUndefined } }, null);
      expect(Object.keys(event!.data)).not.toContain('description');
      expect(Object.keys(event!.data)).not.toContain('expiresAt');
    });

    it('refuses an id that exists', () => {
      given(created).when({ type: 'createListing', data: { id: 'l1', ownerId: 'bob', listing: fields } }).thenRejects('already_exists');
    });
  });

  describe('changeListing', () => {
    it('an edit is listing.updated with the whole listing and the next version', () => {
      given(created).when(change({ title: 'Rad', radiusM: 2_000 }))
        .then({ type: 'listing.updated', data: { ...listing, title: 'Rad', radiusM: 2_000, version: 2 } });
    });

    it('null removes description and expiry', () => {
      const rich = { ...listing, description: 'gut', expiresAt: '2030-01-01T00:00:00.000Z' };
      given({ type: 'listing.created', data: rich }).when(change({ description: null, expiresAt: null }))
        .then({ type: 'listing.updated', data: { ...listing, version: 2 } });
    });

    it('only a new location is listing.moved', () => {
      const there = point(13.5, 52.5);
      given(created).when(change({ location: there })).then({ type: 'listing.moved', data: { id: 'l1', location: there, version: 2 } });
    });

    it('a new location with other changes is listing.updated', () => {
      const there = point(13.5, 52.5);
      given(created).when(change({ location: there, follow: true }))
        .then({ type: 'listing.updated', data: { ...listing, location: there, follow: true, version: 2 } });
    });

    it('status paused / active are listing.paused / listing.resumed', () => {
      given(created).when(change({ status: 'paused' })).then({ type: 'listing.paused', data: { id: 'l1', version: 2 } });
      given(created, { type: 'listing.paused', data: { id: 'l1', version: 2 } }).when(change({ status: 'active' }))
        .then({ type: 'listing.resumed', data: { id: 'l1', version: 3 } });
    });

    it('status closed alone is listing.closed', () => {
      given(created).when(change({ status: 'closed' })).then({ type: 'listing.closed', data: { id: 'l1', version: 2 } });
    });

    it('a status with edits is one listing.updated carrying the status', () => {
      given(created).when(change({ title: 'Rad', status: 'paused' }))
        .then({ type: 'listing.updated', data: { ...listing, title: 'Rad', status: 'paused', version: 2 } });
    });

    it('values equal to the current ones cause no event', () => {
      given(created).when(change({ title: listing.title, tags: ['blau'], location: point(13.405, 52.52), status: 'active' })).then();
    });

    it('counts versions on from the state', () => {
      given(created, { type: 'listing.moved', data: { id: 'l1', location: point(1, 2), version: 2 } }, { type: 'listing.paused', data: { id: 'l1', version: 3 } })
        .when(change({ title: 'Rad' }))
        .then({ type: 'listing.updated', data: { ...listing, location: point(1, 2), status: 'paused', title: 'Rad', version: 4 } });
    });

    it('refuses a listing that does not exist, another user\'s, and a closed one', () => {
      given().when(change({ title: 'Rad' })).thenRejects('not_found');
      given(created).when(change({ title: 'Rad' }, 'bob')).thenRejects('forbidden');
      given(created, { type: 'listing.closed', data: { id: 'l1', version: 2 } }).when(change({ status: 'active' })).thenRejects('closed');
    });
  });

  describe('closeListing', () => {
    it('closes an active or paused listing', () => {
      given(created).when(close()).then({ type: 'listing.closed', data: { id: 'l1', version: 2 } });
      given(created, { type: 'listing.paused', data: { id: 'l1', version: 2 } }).when(close()).then({ type: 'listing.closed', data: { id: 'l1', version: 3 } });
    });

    it('closing a closed listing again changes nothing', () => {
      given(created, { type: 'listing.closed', data: { id: 'l1', version: 2 } }).when(close()).then();
    });

    it('refuses a listing that does not exist and another user\'s', () => {
      given().when(close()).thenRejects('not_found');
      given(created).when(close('bob')).thenRejects('forbidden');
      given(created, { type: 'listing.closed', data: { id: 'l1', version: 2 } }).when(close('bob')).thenRejects('forbidden');
    });
  });
});
