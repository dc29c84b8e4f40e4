/**
 * One viewer's outgoing messages: a ring of at most `capacity`. When it is full the
 * oldest message makes room for the new one (a live view wants the newest), and the
 * caller counts the drop.
 */
export interface MessageQueue<T> {
  readonly size: number;
  /** Adds `item`; returns the item it pushed out, if the queue was full. */
  push(item: T): T | undefined;
  shift(): T | undefined;
  clear(): void;
}

export function createMessageQueue<T>(capacity: number): MessageQueue<T> {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  const ring: (T | undefined)[] = new Array<T | undefined>(capacity);
  let head = 0;
  let size = 0;
  return {
    get size() {
      return size;
    },
    push(item) {
      if (size < capacity) {
        ring[(head + size) % capacity] = item;
        size++;
        return undefined;
      }
      const out = ring[head];
      ring[head] = item;
      head = (head + 1) % capacity;
      return out;
    },
    shift() {
      if (size === 0) return undefined;
      const item = ring[head];
      ring[head] = undefined;
      head = (head + 1) % capacity;
      size--;
      return item;
    },
    clear() {
      ring.fill(undefined);
      head = 0;
      size = 0;
    },
  };
}
