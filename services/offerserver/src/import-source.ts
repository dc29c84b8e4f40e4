/**
 * One claimed source, fetched and imported: politeness first (the host's Retry-After, the
 * per-host rate of all instances, robots.txt: politeness.ts), a conditional GET, the items parsed and synced, the
 * listing events written to Kafka (acks=all) and only then the known items saved; then the
 * source's state and next due time (its refresh after a success, back-off after a failure,
 * never again once gone).
 */
import { listingsTopic } from '@pushtech/contracts';
import type { Producer } from '@pushtech/kafka';
import type { ListingEvent } from '@pushtech/listings';
import type { Logger } from '@pushtech/logging';
import { backoffDelay, type BackoffPolicy } from '@pushtech/backoff';
import { fetchUrl, FetchError, type FetchOptions } from './fetcher.ts';
import type { ItemStore } from './item-store.ts';
import type { OfferserverMetrics } from './metrics.ts';
import { fetchUrlOf, parseItems, ParseError } from './parse-items.ts';
import { RobotsError, type Permission, type Politeness } from './politeness.ts';
import type { Claim, SourceDocument, SourceState, SourceStore } from './source-store.ts';
import type { ImageImporter } from './image-import.ts';
import { closeAll, imagesToImport, syncItems, type KnownItem } from './sync-items.ts';
import type { FeedItem } from './parse-items.ts';

export interface ImportDeps {
  sources: SourceStore;
  items: ItemStore;
  producer: Producer;
  listingsTopic: string;
  /** Retry-After, the per-host rate and robots.txt, for every request (images too). */
  politeness: Politeness;
  fetch: Omit<FetchOptions, 'headers'>;
  backoff: BackoffPolicy;
  goneAfter: number;
  maxItems: number;
  /** Imports items' images through the imageserver (none: listings without images). */
  images?: ImageImporter;
  metrics: OfferserverMetrics;
  logger: Logger;
  now?: () => number;
}

/** What happened to one source: `deferred` (not fetched: its host must wait), or the fetch's outcome. */
export type ImportOutcome =
  | { outcome: 'deferred'; untilMs: number }
  | { outcome: 'ok' | 'not_modified'; created: number; updated: number; closed: number }
  | { outcome: string; error: string };

class SourceFailure extends Error {
  readonly outcome: string;
  readonly status: number | null;
  readonly retryAtMs: number | undefined;
  constructor(outcome: string, message: string, options: { status?: number; retryAtMs?: number } = {}) {
    super(message);
    this.outcome = outcome;
    this.status = options.status ?? null;
    this.retryAtMs = options.retryAtMs;
  }
}

export async function writeEvents(deps: Pick<ImportDeps, 'producer' | 'listingsTopic'>, events: ListingEvent[]): Promise<void> {
  if (events.length === 0) return;
  const messages = events.map((event) => {
    const { key, value } = listingsTopic.encode(event, { source: 'offerserver' });
    return { key, value };
  });
  await deps.producer.send(deps.listingsTopic, messages);
}

export async function importSource(deps: ImportDeps, claim: Claim): Promise<ImportOutcome> {
  const now = deps.now ?? Date.now;
  const source = claim.source;
  const started = performance.now();
  const state: SourceState = { ...source.state };
  const count = (outcome: string) => deps.metrics.fetches.inc({ kind: source.kind, outcome });

  let target: string;
  try {
    target = fetchUrlOf(source.kind, source.url, deps.maxItems);
  } catch (err) {
    return fail(new SourceFailure('bad_url', (err as Error).message));
  }
  const host = new URL(target).host;

  let permission: Permission;
  try {
    permission = await deps.politeness.permit(target);
  } catch (err) {
    return fail(failureOf(err));
  }
  if (permission.verdict === 'wait') {
    // Not the source's fault: no error counted, it is due again when the host may be asked.
    await deps.sources.release(claim, new Date(permission.untilMs));
    count('deferred');
    return { outcome: 'deferred', untilMs: permission.untilMs };
  }

  try {
    if (permission.verdict === 'disallowed') throw new SourceFailure('robots_disallowed', `robots.txt of ${new URL(target).origin} disallows ${target}`);
    const result = await fetchSource(target);
    return await succeed(result);
  } catch (err) {
    return fail(failureOf(err));
  } finally {
    deps.metrics.fetchSeconds.observe({ kind: source.kind }, (performance.now() - started) / 1000);
  }

  async function fetchSource(url: string) {
    const headers: Record<string, string> = {};
    if (state.etag !== null) headers['if-none-match'] = state.etag;
    if (state.lastModified !== null) headers['if-modified-since'] = state.lastModified;
    state.lastFetchAt = new Date(now());
    const response = await fetchUrl(url, { ...deps.fetch, headers });
    state.lastStatus = response.status;
    if (response.status === 429 || response.status === 503) {
      const retryAtMs = await deps.politeness.answered(url, response);
      throw new SourceFailure('rate_limited', `${response.status} from ${host}${retryAtMs === undefined ? '' : `, Retry-After ${Math.round((retryAtMs - now()) / 1000)} s (whole host)`}`, { status: response.status, retryAtMs });
    }
    if (response.status === 404 || response.status === 410) throw new SourceFailure('gone', `${response.status}: the source is not there`, { status: response.status });
    if (response.status !== 304 && (response.status < 200 || response.status > 299)) throw new SourceFailure('http_error', `answered ${response.status}`, { status: response.status });
    return response;
  }

  async function succeed(response: Awaited<ReturnType<typeof fetchUrl>>): Promise<ImportOutcome> {
    const known = await deps.items.get(source._id);
    let synced: { events: ListingEvent[]; known: KnownItem[]; created: number; updated: number; unchanged: number; closed: number; seen: number; skipped: Record<string, number> };
    if (response.status === 304) {
      // Unchanged: every open item is still there.
      const atNow = known.map((k) => (k.closed ? k : { ...k, lastSeenAt: now() }));
      synced = { events: [], known: atNow, created: 0, updated: 0, unchanged: atNow.filter((k) => !k.closed).length, closed: 0, seen: 0, skipped: {} };
    } else {
      const items = parseItems(source.kind, response.body.toString('utf8'), { mapping: source.mapping, baseUrl: response.url }).slice(0, deps.maxItems);
      synced = syncItems({ source: { ...source, id: source._id }, known, items, now: now(), images: await imageIds(known, items) });
      state.etag = headerOf(response.headers.etag);
      state.lastModified = headerOf(response.headers['last-modified']);
    }
    await writeEvents(deps, synced.events);
    await deps.items.put(source._id, synced.known);

    const outcome = response.status === 304 ? 'not_modified' : 'ok';
    count(outcome);
    for (const key of ['created', 'updated', 'unchanged', 'closed'] as const) if (synced[key] > 0) deps.metrics.items.inc({ kind: source.kind, outcome: key }, synced[key]);
    for (const [reason, n] of Object.entries(synced.skipped)) deps.metrics.items.inc({ kind: source.kind, outcome: `skipped_${reason}` }, n);
    Object.assign(state, {
      lastSuccessAt: new Date(now()),
      consecutiveErrors: 0,
      goneCount: 0,
      itemsSeen: state.itemsSeen + synced.seen,
      itemsCreated: state.itemsCreated + synced.created,
      itemsUpdated: state.itemsUpdated + synced.updated,
      itemsClosed: state.itemsClosed + synced.closed,
    });
    const { deleted } = await deps.sources.finish(claim, { nextDueAt: new Date(now() + source.refreshSeconds * 1000), state });
    if (deleted) await forgetDeleted(synced.known);
    return { outcome, created: synced.created, updated: synced.updated, closed: synced.closed };
  }

  /** The imageserver ids of the items' images: known ones, and the new ones imported now (a few at a time). */
  async function imageIds(known: KnownItem[], items: FeedItem[]): Promise<Map<string, string>> {
    const { known: ids, missing } = imagesToImport(known, items);
    if (deps.images === undefined) return ids;
    for (let i = 0; i < missing.length; i += 4) {
      await Promise.all(missing.slice(i, i + 4).map(async (url) => {
        const id = await deps.images!.import(source._id, url);
        if (id !== undefined) ids.set(url, id);
      }));
    }
    return ids;
  }

  async function fail(failure: SourceFailure): Promise<ImportOutcome> {
    count(failure.outcome);
    state.consecutiveErrors += 1;
    state.lastError = `${failure.outcome}: ${failure.message}`;
    if (failure.outcome !== 'gone') state.goneCount = 0;
    else state.goneCount += 1;
    state.lastStatus = failure.status;
    let nextDueAt: Date | null = new Date(Math.max(now() + backoffDelay(deps.backoff, state.consecutiveErrors), failure.retryAtMs ?? 0));
    if (state.goneCount >= deps.goneAfter) {
      // Gone for good: its offers are gone too.
      const { events, known } = closeAll(await deps.items.get(source._id));
      await writeEvents(deps, events);
      await deps.items.put(source._id, known);
      state.itemsClosed += events.length;
      if (events.length > 0) deps.metrics.items.inc({ kind: source.kind, outcome: 'closed' }, events.length);
      state.gone = true;
      nextDueAt = null;
      deps.logger.warn({ sourceId: source._id, url: source.url, goneCount: state.goneCount, closedListings: events.length }, 'source gone: its listings closed, no more fetches until it is changed or re-enabled');
    } else {
      deps.logger.info({ sourceId: source._id, url: source.url, outcome: failure.outcome, err: failure.message, consecutiveErrors: state.consecutiveErrors, nextDueAt }, 'source fetch failed');
    }
    const { deleted } = await deps.sources.finish(claim, { nextDueAt, state });
    if (deleted) await forgetDeleted(await deps.items.get(source._id));
    return { outcome: failure.outcome, error: failure.message };
  }

  /**
   * The source was deleted while this fetch ran: the delete closed the listings it knew of then,
   * not the ones this fetch created (and this fetch may have written its items back). Close every
   * listing this fetch knows open (one the delete closed already gets a close of the same version,
   * which storage ignores) and forget the items.
   */
  async function forgetDeleted(known: KnownItem[]): Promise<void> {
    const { events } = closeAll(known);
    await writeEvents(deps, events);
    await deps.items.remove(source._id);
    deps.logger.info({ sourceId: source._id, closedListings: events.length }, 'source deleted while it was fetched: the listings the fetch knew closed');
  }
}

/** A failure of the source, or the error itself (Kafka or Mongo: the claim lapses and the source is tried again after the lease). */
function failureOf(err: unknown): SourceFailure {
  if (err instanceof SourceFailure) return err;
  if (err instanceof FetchError) return new SourceFailure(err.code, err.message);
  if (err instanceof RobotsError) return new SourceFailure('robots_unavailable', err.message);
  if (err instanceof ParseError) return new SourceFailure('parse_error', err.message);
  throw err;
}

function headerOf(value: string | string[] | undefined): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? null : v;
}

/**
 * Deletes a source: its open listings are closed first (Kafka), then the source and its known
 * items go. Kafka away: nothing is deleted (the caller answers 503 and may retry).
 */
export async function retireSource(deps: Pick<ImportDeps, 'items' | 'producer' | 'listingsTopic' | 'sources'>, source: SourceDocument): Promise<number> {
  const { events, known } = closeAll(await deps.items.get(source._id));
  await writeEvents(deps, events);
  await deps.items.put(source._id, known);
  await deps.sources.remove(source);
  await deps.items.remove(source._id);
  return events.length;
}
