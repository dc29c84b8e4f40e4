type TypedArray = Float64Array | Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/** Copies `source` into the (larger) `target` and returns it: how the index's arrays grow. */
export function copyInto<T extends TypedArray>(target: T, source: T): T {
  target.set(source.subarray(0, Math.min(source.length, target.length)) as never);
  return target;
}
