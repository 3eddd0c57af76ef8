// Growing typed arrays by copying into a larger one. Tables double, so the copies cost O(1) amortised per
// entry; a table reserved for its bound (SlotTable) never copies below it.

type Typed = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array;

/**
 * A copy of `array` with room for `length` elements, the new ones 0 (the tables write other empty values as
 * they prepare slots). A shorter `length` keeps the elements that fit.
 */
export function grown<T extends Typed>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array.length <= length ? array : (array.subarray(0, length) as T));
  return next;
}

/** grown(array, length), or `array` itself where the machine refuses the larger one (RangeError). */
export function grownIfAllowed<T extends Typed>(array: T, length: number): T {
  try {
    return grown(array, length);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return array;
  }
}

/** The smallest power of two that is at least `n` (and at least 16). */
export function powerOfTwoAtLeast(n: number): number {
  let size = 16;
  while (size < n) size *= 2;
  return size;
}
