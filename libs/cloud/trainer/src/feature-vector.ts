/**
 * Feature vectors as bytes, for a cache (a bytea column, a blob): float32,
 * little-endian, as Float32Array lays them out on every platform Loupe runs on.
 */
export function featureBytes(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/**
 * The vector stored by `featureBytes`. Node hands small Buffers out of one
 * shared pool, so the bytes may start anywhere in a larger ArrayBuffer, at an
 * offset a Float32Array cannot start at: those are copied first.
 */
export function featureVector(bytes: Uint8Array, dimension: number): Float32Array {
  if (bytes.byteLength !== dimension * Float32Array.BYTES_PER_ELEMENT) {
    throw new RangeError(`${bytes.byteLength} bytes are not ${dimension} float32 features`);
  }
  if (bytes.byteOffset % Float32Array.BYTES_PER_ELEMENT === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, dimension).slice();
  return new Float32Array(Uint8Array.from(bytes).buffer);
}
