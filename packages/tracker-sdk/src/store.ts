/**
 * Where the queue lives between sessions. The core knows only this interface: the browser adapter
 * implements it on IndexedDB, the React Native one on an AsyncStorage-shaped store, tests in memory.
 */

/** An event as `POST /t/batch` takes it, with the id the client gave it. */
export interface QueuedEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  /** The client's clock when the event happened (RFC 3339). */
  time: string;
  userId?: string;
  anonymousId?: string;
}

/** What the tracker keeps besides the events. */
export interface TrackerMeta {
  anonymousId?: string;
  userId?: string;
  /** Events dropped (queue over its cap) since the first start. */
  dropped?: number;
}

/**
 * A persistent queue. Operations are called one at a time (the tracker chains them), so an
 * implementation need not order them itself.
 */
export interface TrackerStore {
  /** Every stored event, in any order (the tracker sorts them by id, which sorts by time), and the meta. */
  load(): Promise<{ events: QueuedEvent[]; meta: TrackerMeta }>;
  put(events: QueuedEvent[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
  setMeta(meta: TrackerMeta): Promise<void>;
}

/** A store that keeps nothing across restarts: for tests, Node, or when nothing persistent is there. */
export function memoryStore(): TrackerStore & { events: Map<string, QueuedEvent>; meta: TrackerMeta } {
  const events = new Map<string, QueuedEvent>();
  const store = {
    events,
    meta: {} as TrackerMeta,
    load: async () => ({ events: [...events.values()], meta: { ...store.meta } }),
    put: async (list: QueuedEvent[]) => {
      for (const e of list) events.set(e.id, e);
    },
    remove: async (ids: string[]) => {
      for (const id of ids) events.delete(id);
    },
    setMeta: async (meta: TrackerMeta) => {
      store.meta = { ...meta };
    },
  };
  return store;
}
