/**
 * The React Native adapter: the queue in an AsyncStorage-shaped store (one key per event, so a
 * change writes only what changed), and a flush when the app goes to the background or comes
 * back (`AppState`).
 *
 *   import AsyncStorage from '@react-native-async-storage/async-storage';
 *   import { AppState } from 'react-native';
 *   import { createReactNativeTracker } from '@pushtech/tracker-sdk/react-native';
 *   const tracker = createReactNativeTracker({ endpoint: 'https://t.example.com', storage: AsyncStorage, appState: AppState });
 *
 * Nothing here imports React Native: the app hands its modules in.
 */
import { createTracker, type Tracker, type TrackerOptions } from './tracker.ts';
import type { QueuedEvent, TrackerStore } from './store.ts';

export * from './index.ts';

/** The part of `@react-native-async-storage/async-storage` the store uses (any key-value store with these fits). */
export interface AsyncStorageLike {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  getAllKeys(): Promise<readonly string[]>;
  multiGet(keys: readonly string[]): Promise<readonly (readonly [string, string | null])[]>;
  multiSet(pairs: [string, string][]): Promise<void>;
  multiRemove(keys: readonly string[]): Promise<void>;
}

/** The part of React Native's `AppState` the tracker uses. */
export interface AppStateLike {
  addEventListener(type: 'change', listener: (state: string) => void): unknown;
}

/** The queue in AsyncStorage: `<prefix>e:<id>` per event, `<prefix>meta`. */
export function asyncStorageStore(storage: AsyncStorageLike, prefix = 'pushtech-tracker:'): TrackerStore {
  const eventKey = `${prefix}e:`;
  const metaKey = `${prefix}meta`;
  return {
    async load() {
      const keys = (await storage.getAllKeys()).filter((k) => k.startsWith(eventKey));
      const events = (await storage.multiGet(keys)).flatMap(([, v]) => (v === null ? [] : [JSON.parse(v) as QueuedEvent]));
      const meta = await storage.getItem(metaKey);
      return { events, meta: meta === null ? {} : JSON.parse(meta) };
    },
    put: (events) => storage.multiSet(events.map((e) => [eventKey + e.id, JSON.stringify(e)])),
    remove: (ids) => storage.multiRemove(ids.map((id) => eventKey + id)),
    setMeta: (meta) => storage.setItem(metaKey, JSON.stringify(meta)),
  };
}

export interface ReactNativeTrackerOptions extends Omit<TrackerOptions, 'store'> {
  storage: AsyncStorageLike;
  appState?: AppStateLike;
}

export function createReactNativeTracker(options: ReactNativeTrackerOptions): Tracker {
  const tracker = createTracker({ ...options, store: asyncStorageStore(options.storage) });
  // Leaving: send while the OS still lets the app run (the queue is stored either way); back: send what waited.
  options.appState?.addEventListener('change', (state) => {
    if (state === 'background' || state === 'active') void tracker.flush();
  });
  return tracker;
}
