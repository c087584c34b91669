// Payload bytes <-> one-byte strings (char code = byte), the memory backend's storage format.
// Only documented Buffer APIs: `toString('latin1')` and `write(text, offset, length, 'latin1')`.

/** The bytes as a string of one char per byte: the copy that isolates a stored entry. */
export function bytesToString(bytes: Uint8Array): string {
  // A Buffer view over the same memory (no copy); toString copies into the string.
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

// Read copies of small payloads are carved from shared slabs: an ArrayBuffer per row would cost
// more than the row. Slab bytes are never reused, so no returned view is ever overwritten.
const SLAB_BYTES = 16 * 1024;
let slab = Buffer.allocUnsafeSlow(0);
let slabOffset = 0;

/** A fresh copy of the bytes of a string made by {@link bytesToString}. */
export function stringToBytes(text: string): Uint8Array {
  const length = text.length;
  if (length > SLAB_BYTES / 4) {
    const bytes = new Uint8Array(length);
    Buffer.from(bytes.buffer, 0, length).write(text, 0, length, 'latin1');
    return bytes;
  }
  if (slabOffset + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabOffset = 0;
  }
  slab.write(text, slabOffset, length, 'latin1');
  const bytes = new Uint8Array(slab.buffer, slab.byteOffset + slabOffset, length);
  slabOffset += length;
  return bytes;
}
