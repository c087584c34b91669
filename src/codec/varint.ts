/**
 * Protobuf varints written into a buffer sized in advance: the encoders that know every length
 * before they write (the backend's direct request bodies) size the body exactly, then fill it,
 * with no growing buffer and no length prefix moved afterwards.
 *
 * @packageDocumentation
 */

/** Bytes of the varint of a non-negative safe integer (1 to 8 for anything below 2^53). */
export function varintSize(value: number): number {
  let n = 1;
  for (let v = value; v > 0x7f; v = Math.floor(v / 128)) n++;
  return n;
}

/** Writes the varint of a non-negative safe integer at `at`; returns the offset after it. */
export function putVarint(out: Uint8Array, at: number, value: number): number {
  let p = at;
  let v = value;
  while (v > 0x7f) {
    out[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[p++] = v;
  return p;
}
