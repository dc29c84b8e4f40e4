/**
 * The browser adapter: the queue in IndexedDB (it survives reloads and offline spells),
 * `navigator.sendBeacon` when the page is hidden or left, a flush when the browser is back
 * online, and `page()` filled from `location` and `document`.
 *
 *   import { createBrowserTracker } from '@pushtech/tracker-sdk/browser';
 *   const tracker = createBrowserTracker({ endpoint: 'https://t.example.com' });
 *
 * The DOM is reached through the few shapes declared here, so the package type-checks without
 * the DOM library and the core stays free of it.
 */
import { createTracker, type Tracker, type TrackerOptions } from './tracker.ts';
import { memoryStore, type QueuedEvent, type TrackerMeta, type TrackerStore } from './store.ts';

export * from './index.ts';

interface IdbRequest<T = unknown> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbObjectStore {
  put(value: unknown, key?: string): unknown;
  delete(key: string): unknown;
  getAll(): IdbRequest<QueuedEvent[]>;
  get(key: string): IdbRequest<TrackerMeta | undefined>;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IdbDatabase {
  transaction(stores: string[], mode: 'readonly' | 'readwrite'): IdbTransaction;
  createObjectStore(name: string, options?: { keyPath: string }): unknown;
}
interface BrowserGlobals {
  indexedDB?: { open(name: string, version: number): IdbRequest<IdbDatabase> & { onupgradeneeded: (() => void) | null } };
  navigator: { sendBeacon?(url: string, body: string): boolean };
  document: { visibilityState: string; title: string; referrer: string; addEventListener(type: string, listener: () => void): void };
  location: { pathname: string; href: string };
  addEventListener(type: string, listener: () => void): void;
}

const EVENTS = 'events';
const META = 'meta';

const done = <T>(request: IdbRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/** The queue in IndexedDB: object store `events` (keyed by event id), `meta` (one record). */
export function indexedDbStore(name = 'pushtech-tracker'): TrackerStore {
  const idb = (globalThis as unknown as BrowserGlobals).indexedDB;
  let opened: Promise<IdbDatabase> | undefined;
  const open = () => {
    if (!idb) return Promise.reject(new Error('no IndexedDB'));
    const request = idb.open(name, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(EVENTS, { keyPath: 'id' });
      request.result.createObjectStore(META);
    };
    return done(request);
  };
  const db = () => {
    opened ??= open();
    return opened;
  };
  const write = async (change: (events: IdbObjectStore, meta: IdbObjectStore) => void) => {
    const tx = (await db()).transaction([EVENTS, META], 'readwrite');
    change(tx.objectStore(EVENTS), tx.objectStore(META));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = tx.onerror;
    });
  };
  return {
    async load() {
      const tx = (await db()).transaction([EVENTS, META], 'readonly');
      const [events, meta] = await Promise.all([done(tx.objectStore(EVENTS).getAll()), done(tx.objectStore(META).get(META))]);
      return { events, meta: meta ?? {} };
    },
    put: (events) =>
      write((store) => {
        for (const e of events) store.put(e);
      }),
    remove: (ids) =>
      write((store) => {
        for (const id of ids) store.delete(id);
      }),
    setMeta: (meta) => write((_, store) => store.put(meta, META)),
  };
}

export interface BrowserTrackerOptions extends Omit<TrackerOptions, 'store'> {
  /** Default: IndexedDB, or memory (with a warning) where there is none. */
  store?: TrackerStore;
}

export function createBrowserTracker(options: BrowserTrackerOptions): Tracker {
  const w = globalThis as unknown as BrowserGlobals;
  const tracker = createTracker({ ...options, store: options.store ?? (w.indexedDB ? indexedDbStore() : memoryStore()) });
  // One beacon per hiding: `visibilitychange` and then `pagehide` would send the same events twice.
  let beaconed = false;
  const leave = () => {
    if (!beaconed && w.navigator.sendBeacon) beaconed = tracker.beacon((url, body) => w.navigator.sendBeacon!(url, body));
  };
  w.addEventListener('pagehide', leave);
  w.document.addEventListener('visibilitychange', () => {
    if (w.document.visibilityState === 'hidden') leave();
    else beaconed = false;
  });
  w.addEventListener('pageshow', () => {
    beaconed = false;
  });
  w.addEventListener('online', () => void tracker.flush());
  return {
    ...tracker,
    page: (data) =>
      tracker.page({ path: w.location.pathname, url: w.location.href, title: w.document.title, referrer: w.document.referrer, ...data }),
  };
}
