/**
 * A command from the API to its answer: read the state from the projection,
 * decide, append the event to Kafka `listings` (acks=all: from here on it is
 * never lost), then wait for the projection to show it (read-your-writes).
 */
import { listingsTopic } from '@pushtech/contracts';
import type { Producer } from '@pushtech/kafka';
import type { Listing } from '@pushtech/listings';
import type { Logger } from '@pushtech/logging';
import { UnavailableError } from '@pushtech/service';
import { decide, ListingRejected, type ListingCommand } from './listing-decider.ts';
import type { ListingStore } from './listing-store.ts';
import type { StorageMetrics } from './metrics.ts';
import { awaitProjection, type AppliedSignal } from './read-your-writes.ts';

export interface CommandDeps {
  store: ListingStore;
  producer: Producer;
  listingsTopic: string;
  signal: AppliedSignal;
  readYourWritesTimeoutMs: number;
  metrics: StorageMetrics;
  logger: Logger;
}

export type CommandResult =
  /** The event is in the projection: `listing` is what it shows now. */
  | { outcome: 'applied'; listing: Listing }
  /** The command changed nothing (no event). */
  | { outcome: 'unchanged'; listing: Listing }
  /** The event is on Kafka but the projection did not show it in time. */
  | { outcome: 'accepted'; id: string; version: number }
  /** Another event took the version first: this one will never apply. */
  | { outcome: 'conflict'; id: string; version: number };

export async function runCommand(deps: CommandDeps, command: ListingCommand): Promise<CommandResult> {
  const { store, metrics } = deps;
  const count = (outcome: string) => metrics.commands.inc({ command: command.type, outcome });
  try {
    const state = command.type === 'createListing' ? null : await store.get(command.data.id);
    const [event] = decide(command, state);
    if (event === undefined) {
      count('unchanged');
      return { outcome: 'unchanged', listing: state! };
    }
    const { envelope, key, value } = listingsTopic.encode(event);
    try {
      await deps.producer.send(deps.listingsTopic, [{ key, value }]);
    } catch (err) {
      throw new UnavailableError('kafka', err);
    }
    const { id, version } = event.data;
    const started = performance.now();
    const projected = await awaitProjection(id, version, envelope.id, {
      readVersion: (listingId) => store.version(listingId),
      signal: deps.signal,
      timeoutMs: deps.readYourWritesTimeoutMs,
    });
    metrics.readYourWritesSeconds.observe({ outcome: projected }, (performance.now() - started) / 1000);
    if (projected === 'timeout') {
      deps.logger.warn({ id, version, eventId: envelope.id, timeoutMs: deps.readYourWritesTimeoutMs }, 'projection too slow: answered 202');
      count('accepted');
      return { outcome: 'accepted', id, version };
    }
    if (projected === 'conflict') {
      deps.logger.info({ id, version, eventId: envelope.id, type: event.type }, 'concurrent write: answered 409');
      count('conflict');
      return { outcome: 'conflict', id, version };
    }
    const listing = await store.get(id);
    count('applied');
    return { outcome: 'applied', listing: listing! };
  } catch (err) {
    if (err instanceof ListingRejected) count(err.code === 'forbidden' || err.code === 'not_found' ? err.code : 'rejected');
    else count('failed');
    throw err;
  }
}
