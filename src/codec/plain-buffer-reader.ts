/**
 * PlainBuffer reader: TableStore's row encoding decoded, every CRC-8 checksum verified
 * (the writer is plain-buffer-writer.ts).
 *
 * Layout: a little-endian int32 header `0x75`, then rows. A row is `TAG_ROW_PK` + cells,
 * optionally `TAG_ROW_DATA` + cells, an optional delete marker, then `TAG_ROW_CHECKSUM` + CRC-8.
 * A cell is `TAG_CELL`, `TAG_CELL_NAME` + u32 length + name, an optional value
 * (`TAG_CELL_VALUE` + u32 length + type byte + payload), an optional operation byte, an optional
 * int64 timestamp, then `TAG_CELL_CHECKSUM` + CRC-8.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range, crc8Uint32 } from './checksum.js';
import { HEADER, PlainBufferError, Tag, VariantType, type PlainCell, type PlainRow, type PlainValue } from './plain-buffer-format.js';

class Reader {
  readonly #buf: Buffer;
  pos = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  get atEnd(): boolean {
    return this.pos >= this.#buf.length;
  }

  peek(): number | undefined {
    return this.#buf[this.pos];
  }

  byte(): number {
    const b = this.#buf[this.pos];
    if (b === undefined) throw new PlainBufferError('unexpected end of PlainBuffer');
    this.pos++;
    return b;
  }

  u32(): number {
    this.#need(4);
    const b = this.#buf;
    const p = this.pos;
    this.pos = p + 4;
    // Bytes assembled inline: readUInt32LE re-checks the offset it is given on every call.
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000;
  }

  i64raw(): Buffer {
    return this.bytes(8);
  }

  /** The buffer being read (to decode in place, without views). */
  get buf(): Buffer {
    return this.#buf;
  }

  /** Skips `n` bytes and returns where they start. */
  skip(n: number): number {
    this.#need(n);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  bytes(n: number): Buffer {
    this.#need(n);
    const out = this.#buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  expectTag(tag: number, what: string): void {
    const got = this.byte();
    if (got !== tag) throw new PlainBufferError(`expected ${what} (0x${tag.toString(16)}) but got 0x${got.toString(16)} at offset ${this.pos - 1}`);
  }

  #need(n: number): void {
    if (this.pos + n > this.#buf.length) throw new PlainBufferError('unexpected end of PlainBuffer');
  }
}

// The checksum of the last value or cell read: returned beside the result without an object per cell.
let lastCrc = 0;

function readValue(r: Reader, crcIn: number): PlainValue {
  const declared = r.u32();
  const start = r.pos;
  const type = r.byte();
  let crc = crc8Byte(crcIn, type);
  let value: PlainValue;
  switch (type) {
    case VariantType.INTEGER: {
      const at = r.skip(8);
      crc = crc8Range(crc, r.buf, at, at + 8);
      value = { type: 'INTEGER', value: r.buf.readBigInt64LE(at) };
      break;
    }
    case VariantType.DOUBLE: {
      const at = r.skip(8);
      crc = crc8Range(crc, r.buf, at, at + 8);
      value = { type: 'DOUBLE', value: r.buf.readDoubleLE(at) };
      break;
    }
    case VariantType.BOOLEAN: {
      const b = r.byte();
      crc = crc8Byte(crc, b === 0 ? 0 : 1);
      value = { type: 'BOOLEAN', value: b !== 0 };
      break;
    }
    case VariantType.STRING:
    case VariantType.BLOB: {
      const len = r.u32();
      const at = r.skip(len);
      crc = crc8Range(crc8Uint32(crc, len), r.buf, at, at + len);
      // Binary values are copied: the request buffer is not kept.
      value = type === VariantType.STRING ? { type: 'STRING', value: r.buf.toString('utf8', at, at + len) } : { type: 'BINARY', value: Buffer.from(r.buf.subarray(at, at + len)) };
      break;
    }
    case VariantType.NULL:
      value = { type: 'NULL' };
      break;
    case VariantType.INF_MIN:
      value = { type: 'INF_MIN' };
      break;
    case VariantType.INF_MAX:
      value = { type: 'INF_MAX' };
      break;
    case VariantType.AUTO_INCREMENT:
      value = { type: 'AUTO_INCREMENT' };
      break;
    default:
      throw new PlainBufferError(`unknown variant type 0x${type.toString(16)}`);
  }
  if (r.pos - start !== declared) {
    throw new PlainBufferError(`cell value length mismatch: declared ${declared}, read ${r.pos - start}`);
  }
  lastCrc = crc;
  return value;
}

/**
 * Decodes a bare variant (type byte and payload, no length prefix or checksum): the encoding of
 * `SingleColumnValueFilter.column_value`.
 *
 * @throws {@link PlainBufferError} on malformed input or trailing bytes.
 */
export function decodeVariant(buf: Buffer): PlainValue {
  const r = new Reader(buf);
  const type = r.byte();
  let value: PlainValue;
  switch (type) {
    case VariantType.INTEGER:
      value = { type: 'INTEGER', value: r.i64raw().readBigInt64LE(0) };
      break;
    case VariantType.DOUBLE:
      value = { type: 'DOUBLE', value: r.i64raw().readDoubleLE(0) };
      break;
    case VariantType.BOOLEAN:
      value = { type: 'BOOLEAN', value: r.byte() !== 0 };
      break;
    case VariantType.STRING:
      value = { type: 'STRING', value: r.bytes(r.u32()).toString('utf8') };
      break;
    case VariantType.BLOB:
      value = { type: 'BINARY', value: Buffer.from(r.bytes(r.u32())) };
      break;
    default:
      throw new PlainBufferError(`invalid column value type 0x${type.toString(16)}`);
  }
  if (!r.atEnd) throw new PlainBufferError('trailing bytes after the column value');
  return value;
}

// The last few ASCII column names decoded: rows repeat the same names, and reusing the string
// saves an allocation per cell (compared byte for byte, so a hit is always the same name).
const RECENT = 16;
const recentNames: string[] = new Array<string>(RECENT).fill('');
let recentNext = 0;

function cellName(buf: Buffer, at: number, len: number): string {
  if (len > 0 && len <= 32) {
    search: for (let k = 0; k < RECENT; k++) {
      const s = recentNames[k] as string;
      if (s.length !== len) continue;
      for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== buf[at + i]) continue search;
      return s;
    }
    for (let i = 0; i < len; i++) if ((buf[at + i] as number) >= 0x80) return buf.toString('utf8', at, at + len);
    const name = buf.toString('latin1', at, at + len);
    recentNames[recentNext] = name;
    recentNext = (recentNext + 1) % RECENT;
    return name;
  }
  return buf.toString('utf8', at, at + len);
}

function readCell(r: Reader): PlainCell {
  r.expectTag(Tag.CELL, 'TAG_CELL');
  r.expectTag(Tag.CELL_NAME, 'TAG_CELL_NAME');
  const nameLen = r.u32();
  const nameAt = r.skip(nameLen);
  const name = cellName(r.buf, nameAt, nameLen);
  let crc = crc8Range(0, r.buf, nameAt, nameAt + nameLen);
  let value: PlainValue | undefined;
  let op: number | undefined;
  let timestamp: bigint | undefined;
  if (r.peek() === Tag.CELL_VALUE) {
    r.byte();
    value = readValue(r, crc);
    crc = lastCrc;
  }
  if (r.peek() === Tag.CELL_TYPE) {
    r.byte();
    op = r.byte();
  }
  if (r.peek() === Tag.CELL_TIMESTAMP) {
    r.byte();
    const at = r.skip(8);
    crc = crc8Range(crc, r.buf, at, at + 8);
    timestamp = r.buf.readBigInt64LE(at);
  }
  // The operation byte is written before the timestamp but checksummed after it.
  if (op !== undefined) crc = crc8Byte(crc, op);
  r.expectTag(Tag.CELL_CHECKSUM, 'TAG_CELL_CHECKSUM');
  const sum = r.byte();
  if (sum !== crc) throw new PlainBufferError(`cell checksum mismatch for column '${name}': expected ${crc}, got ${sum}`);
  lastCrc = crc;
  return { name, value, op, timestamp };
}

function readRowBody(r: Reader): PlainRow {
  let rowCrc = 0;
  const primaryKey: PlainCell[] = [];
  const attributes: PlainCell[] = [];
  if (r.peek() === Tag.ROW_PK) {
    r.byte();
    while (r.peek() === Tag.CELL) {
      primaryKey.push(readCell(r));
      rowCrc = crc8Byte(rowCrc, lastCrc);
    }
  }
  if (r.peek() === Tag.ROW_DATA) {
    r.byte();
    while (r.peek() === Tag.CELL) {
      attributes.push(readCell(r));
      rowCrc = crc8Byte(rowCrc, lastCrc);
    }
  }
  let deleteMarker = false;
  if (r.peek() === Tag.DELETE_ROW_MARKER) {
    r.byte();
    deleteMarker = true;
  }
  rowCrc = crc8Byte(rowCrc, deleteMarker ? 1 : 0);
  r.expectTag(Tag.ROW_CHECKSUM, 'TAG_ROW_CHECKSUM');
  const sum = r.byte();
  if (sum !== rowCrc) throw new PlainBufferError(`row checksum mismatch: expected ${rowCrc}, got ${sum}`);
  return { primaryKey, attributes, deleteMarker };
}

function readHeader(r: Reader): void {
  const h = r.u32();
  if (h !== HEADER) throw new PlainBufferError(`invalid PlainBuffer header 0x${h.toString(16)}`);
}

/**
 * Decodes exactly one row (header included), verifying every checksum.
 *
 * Trailing zero bytes are ignored: the Node SDK sizes its buffer one byte too large for each
 * INF_MIN / INF_MAX / AUTO_INCREMENT value and sends the zero padding.
 *
 * @throws {@link PlainBufferError} on malformed input or non-zero trailing bytes.
 */
export function decodeRow(buf: Buffer): PlainRow {
  const r = new Reader(buf);
  readHeader(r);
  const row = readRowBody(r);
  while (!r.atEnd) {
    if (r.byte() !== 0) throw new PlainBufferError('trailing bytes after the row');
  }
  return row;
}

/** Decodes a header followed by any number of rows (the GetRange response layout). */
export function decodeRows(buf: Buffer): PlainRow[] {
  if (buf.length === 0) return [];
  const r = new Reader(buf);
  readHeader(r);
  const rows: PlainRow[] = [];
  while (!r.atEnd) rows.push(readRowBody(r));
  return rows;
}
