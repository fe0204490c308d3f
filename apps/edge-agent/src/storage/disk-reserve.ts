/**
 * Which items, taken in order, fit in `freeBytes` while leaving
 * `reserveBytes` free; the rest are refused. An item that does not fit does
 * not stop a smaller one after it.
 */
export function fitWithinReserve<T>(items: readonly T[], bytesOf: (item: T) => number, freeBytes: number, reserveBytes: number): { fitting: T[]; refused: T[] } {
  let room = freeBytes - reserveBytes;
  const fitting: T[] = [];
  const refused: T[] = [];
  for (const item of items) {
    const bytes = bytesOf(item);
    if (bytes > room) {
      refused.push(item);
      continue;
    }
    room -= bytes;
    fitting.push(item);
  }
  return { fitting, refused };
}
