/**
 * Checksums: CRC-8 (polynomial 0x07, init 0) as used by PlainBuffer rows, and CRC-32 (IEEE) as
 * used by the emulator's own persistence log.
 *
 * @packageDocumentation
 */

const CRC8_TABLE = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
})();

/** Folds one byte into a CRC-8. */
export function crc8Byte(crc: number, byte: number): number {
  return CRC8_TABLE[(crc ^ byte) & 0xff] as number;
}

/** Folds bytes into a CRC-8. */
export function crc8(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = CRC8_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number;
  return c;
}

/** Folds a 32-bit little-endian integer into a CRC-8. */
export function crc8Uint32(crc: number, value: number): number {
  let c = crc;
  for (let i = 0; i < 4; i++) c = crc8Byte(c, (value >>> (i * 8)) & 0xff);
  return c;
}

const CRC32_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC32_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Folds `bytes[start..end)` into a CRC-8 without making a view. */
export function crc8Range(crc: number, bytes: Uint8Array, start: number, end: number): number {
  let c = crc;
  for (let i = start; i < end; i++) c = CRC8_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number;
  return c;
}

/** Folds a signed 64-bit little-endian integer into a CRC-8. */
export function crc8Int64(crc: number, value: bigint): number {
  let c = crc;
  let lo = Number(BigInt.asUintN(32, value));
  let hi = Number(BigInt.asUintN(32, value >> 32n));
  for (let i = 0; i < 4; i++, lo >>>= 8) c = CRC8_TABLE[(c ^ lo) & 0xff] as number;
  for (let i = 0; i < 4; i++, hi >>>= 8) c = CRC8_TABLE[(c ^ hi) & 0xff] as number;
  return c;
}
