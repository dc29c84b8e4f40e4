/**
 * UUIDv7 (RFC 9562), as the tracker makes them: 48-bit Unix ms, version 7, a 12-bit counter that
 * keeps the ids of one millisecond in creation order, variant, random bits. Ids sort by time,
 * so a stored queue read back in key order is in the order it was filled.
 */

let lastMs = 0;
let counter = 0;

const pool = new Uint8Array(4096);
let poolOffset = pool.length;

/**
 * Offset of `n` fresh random bytes in `pool`, refilled 4 KiB at a time (one call per id was
 * most of `track()`'s time): `crypto.getRandomValues` where there is one (browsers, Hermes with
 * a polyfill), else Math.random — ids must be unique, not secret.
 */
function randomBytes(n: number): number {
  if (poolOffset + n > pool.length) {
    const crypto = (globalThis as { crypto?: { getRandomValues?(a: Uint8Array): Uint8Array } }).crypto;
    if (crypto?.getRandomValues) crypto.getRandomValues(pool);
    else for (let i = 0; i < pool.length; i++) pool[i] = Math.floor(Math.random() * 256);
    poolOffset = 0;
  }
  poolOffset += n;
  return poolOffset - n;
}

const hex = (value: number, digits: number) => value.toString(16).padStart(digits, '0');

export function uuidv7(): string {
  const at = randomBytes(9);
  const r = (i: number) => pool[at + i]!;
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = r(0) & 0x7f;
  } else if (++counter > 0xfff) {
    lastMs++; // more than 4,096 ids in one ms: borrow the next one so the order holds
    counter = 0;
  }
  ms = lastMs;
  let tail = '';
  for (let i = 3; i < 9; i++) tail += hex(r(i), 2);
  const time = hex(ms, 12);
  return `${time.slice(0, 8)}-${time.slice(8)}-${hex(0x7000 | counter, 4)}-${hex(0x8000 | ((r(1) & 0x3f) << 8) | r(2), 4)}-${tail}`;
}
