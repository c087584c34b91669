/**
 * PlainBuffer encoding into one growing buffer: no allocation per byte or per field, checksums
 * folded over the bytes just written. See plain-buffer-reader.ts for the layout.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range, crc8Uint32 } from './checksum.js';
import { HEADER, Tag, VariantType, type PlainCell, type PlainRow, type PlainValue } from './plain-buffer-format.js';

const TWO_32 = 2 ** 32;

/**
 * Writes a 64-bit two's complement integer, little endian. Values within ±2^53 (every
 * timestamp and sequence number in practice) go through a double: no bigint is allocated.
 */
function writeInt64(b: Buffer, v: bigint, at: number): void {
  const n = Number(v);
  if (Number.isSafeInteger(n)) {
    const hi = Math.floor(n / TWO_32);
    b.writeUInt32LE(n - hi * TWO_32, at);
    b.writeInt32LE(hi, at + 4);
  } else {
    b.writeBigInt64LE(BigInt.asIntN(64, v), at);
  }
}

/** Column names already encoded: their UTF-8 bytes and CRC-8 (bounded; names are never evicted). */
const NAMES = new Map<string, { readonly bytes: Buffer; readonly crc: number }>();
const MAX_NAMES = 4096;

/** Writes PlainBuffer rows into one growing buffer. */
export class PlainBufferWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(initialBytes = 512) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  /** Size of the internal buffer. */
  get capacity(): number {
    return this.#buf.length;
  }

  /** Drops everything written after `length` (a GetRange page that would grow too large). */
  truncate(length: number): void {
    if (length < this.#pos) this.#pos = length;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  #byte(v: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = v;
  }

  #u32(v: number): void {
    this.#ensure(4);
    this.#buf.writeUInt32LE(v >>> 0, this.#pos);
    this.#pos += 4;
  }

  /** Writes a UTF-8 string prefixed with its byte length; returns where the bytes start. */
  #prefixedUtf8(s: string): number {
    this.#ensure(4 + s.length * 3);
    const start = this.#pos + 4;
    const n = this.#buf.write(s, start, 'utf8');
    this.#buf.writeUInt32LE(n, this.#pos);
    this.#pos = start + n;
    return start;
  }

  /**
   * `TAG_CELL_NAME`, the length and the UTF-8 bytes of a column name; returns the name's CRC-8.
   * Names repeat on every row: their bytes and checksum are computed once per name.
   */
  #cellName(name: string): number {
    let known = NAMES.get(name);
    if (known === undefined) {
      const bytes = Buffer.from(name, 'utf8');
      known = { bytes, crc: crc8Range(0, bytes, 0, bytes.length) };
      if (NAMES.size < MAX_NAMES) NAMES.set(name, known);
    }
    const bytes = known.bytes;
    const n = bytes.length;
    this.#ensure(5 + n);
    const b = this.#buf;
    let p = this.#pos;
    b[p++] = Tag.CELL_NAME;
    b.writeUInt32LE(n, p);
    p += 4;
    if (n <= 32) for (let i = 0; i < n; i++) b[p + i] = bytes[i] as number;
    else b.set(bytes, p);
    this.#pos = p + n;
    return known.crc;
  }

  /** Writes the PlainBuffer header. */
  header(): void {
    this.#u32(HEADER);
  }

  #value(value: PlainValue, crcIn: number): number {
    this.#byte(Tag.CELL_VALUE);
    switch (value.type) {
      case 'INTEGER':
      case 'DOUBLE': {
        const type = value.type === 'INTEGER' ? VariantType.INTEGER : VariantType.DOUBLE;
        this.#ensure(13);
        const b = this.#buf;
        b.writeUInt32LE(9, this.#pos);
        b[this.#pos + 4] = type;
        const at = this.#pos + 5;
        if (value.type === 'INTEGER') writeInt64(b, value.value, at);
        else b.writeDoubleLE(value.value, at);
        this.#pos = at + 8;
        return crc8Range(crc8Byte(crcIn, type), b, at, at + 8);
      }
      case 'BOOLEAN': {
        const v = value.value ? 1 : 0;
        this.#u32(2);
        this.#byte(VariantType.BOOLEAN);
        this.#byte(v);
        return crc8Byte(crc8Byte(crcIn, VariantType.BOOLEAN), v);
      }
      case 'STRING': {
        // Total length (5 + n) is known only after the string is written: leave room, then fill it in.
        const lenAt = this.#pos;
        this.#ensure(5 + 4 + value.value.length * 3);
        this.#pos += 4;
        this.#byte(VariantType.STRING);
        const start = this.#prefixedUtf8(value.value);
        const n = this.#pos - start;
        this.#buf.writeUInt32LE(5 + n, lenAt);
        return crc8Range(crc8Uint32(crc8Byte(crcIn, VariantType.STRING), n), this.#buf, start, this.#pos);
      }
      case 'BINARY': {
        const data = value.value;
        this.#u32(5 + data.length);
        this.#byte(VariantType.BLOB);
        this.#u32(data.length);
        this.#ensure(data.length);
        const start = this.#pos;
        this.#buf.set(data, start);
        this.#pos += data.length;
        return crc8Range(crc8Uint32(crc8Byte(crcIn, VariantType.BLOB), data.length), this.#buf, start, this.#pos);
      }
      case 'NULL':
      case 'INF_MIN':
      case 'INF_MAX':
      case 'AUTO_INCREMENT': {
        const type = VariantType[value.type];
        this.#u32(1);
        this.#byte(type);
        return crc8Byte(crcIn, type);
      }
    }
  }

  /** Writes one cell; returns its checksum. */
  cell(name: string, value: PlainValue | undefined, op: number | undefined, timestamp: bigint | undefined): number {
    this.#byte(Tag.CELL);
    let crc = this.#cellName(name);
    if (value !== undefined) crc = this.#value(value, crc);
    if (op !== undefined) {
      this.#byte(Tag.CELL_TYPE);
      this.#byte(op);
    }
    if (timestamp !== undefined) {
      this.#ensure(9);
      this.#buf[this.#pos] = Tag.CELL_TIMESTAMP;
      const at = this.#pos + 1;
      writeInt64(this.#buf, timestamp, at);
      this.#pos += 9;
      crc = crc8Range(crc, this.#buf, at, at + 8);
    }
    // The operation byte is written before the timestamp but checksummed after it.
    if (op !== undefined) crc = crc8Byte(crc, op);
    this.#byte(Tag.CELL_CHECKSUM);
    this.#byte(crc);
    return crc;
  }

  /**
   * One primary-key cell straight from its stored value: a STRING key is kept as its UTF-8 bytes,
   * written as they are (no decode to a string and encode back).
   */
  #pkCell(name: string, type: 'INTEGER' | 'STRING' | 'BINARY', v: bigint | Buffer): number {
    this.#byte(Tag.CELL);
    let crc = this.#cellName(name);
    if (type === 'INTEGER') {
      this.#ensure(14);
      const b = this.#buf;
      b[this.#pos] = Tag.CELL_VALUE;
      b.writeUInt32LE(9, this.#pos + 1);
      b[this.#pos + 5] = VariantType.INTEGER;
      const at = this.#pos + 6;
      writeInt64(b, v as bigint, at);
      this.#pos = at + 8;
      crc = crc8Range(crc8Byte(crc, VariantType.INTEGER), b, at, at + 8);
    }
    else {
      const data = v as Buffer;
      const variant = type === 'STRING' ? VariantType.STRING : VariantType.BLOB;
      this.#ensure(1 + 4 + 1 + 4 + data.length + 2);
      const b = this.#buf;
      b[this.#pos++] = Tag.CELL_VALUE;
      b.writeUInt32LE(5 + data.length, this.#pos);
      b[this.#pos + 4] = variant;
      b.writeUInt32LE(data.length, this.#pos + 5);
      const start = this.#pos + 9;
      b.set(data, start);
      this.#pos = start + data.length;
      crc = crc8Range(crc8Uint32(crc8Byte(crc, variant), data.length), b, start, this.#pos);
    }
    this.#byte(Tag.CELL_CHECKSUM);
    this.#byte(crc);
    return crc;
  }

  /**
   * Writes a stored row: its primary key from the stored values and column definitions (no
   * per-row cell objects), then `attributes`.
   */
  storedRow(
    pkColumns: readonly { readonly name: string; readonly type: 'INTEGER' | 'STRING' | 'BINARY' }[],
    pk: readonly (bigint | Buffer)[],
    attributes: readonly PlainCell[],
  ): void {
    let rowCrc = 0;
    this.pkTag();
    for (let i = 0; i < pkColumns.length; i++) {
      const col = pkColumns[i] as { readonly name: string; readonly type: 'INTEGER' | 'STRING' | 'BINARY' };
      rowCrc = crc8Byte(rowCrc, this.#pkCell(col.name, col.type, pk[i] as bigint | Buffer));
    }
    if (attributes.length > 0) {
      this.dataTag();
      for (const c of attributes) rowCrc = crc8Byte(rowCrc, this.cell(c.name, c.value, c.op, c.timestamp));
    }
    this.endRow(rowCrc, false);
  }

  /** Starts the attribute section of a row. */
  dataTag(): void {
    this.#byte(Tag.ROW_DATA);
  }

  /** Starts a row (its primary-key section). */
  pkTag(): void {
    this.#byte(Tag.ROW_PK);
  }

  /** Ends a row: the optional delete marker, then the row checksum over the cells' checksums. */
  endRow(rowCrc: number, deleteMarker: boolean): void {
    if (deleteMarker) this.#byte(Tag.DELETE_ROW_MARKER);
    this.#byte(Tag.ROW_CHECKSUM);
    this.#byte(crc8Byte(rowCrc, deleteMarker ? 1 : 0));
  }

  /** Writes one whole row. */
  row(row: PlainRow): void {
    let rowCrc = 0;
    this.pkTag();
    for (const c of row.primaryKey) rowCrc = crc8Byte(rowCrc, this.cell(c.name, c.value, c.op, c.timestamp));
    if (row.attributes.length > 0) {
      this.dataTag();
      for (const c of row.attributes) rowCrc = crc8Byte(rowCrc, this.cell(c.name, c.value, c.op, c.timestamp));
    }
    this.endRow(rowCrc, row.deleteMarker);
  }

  /** The bytes written (a view of the internal buffer; the writer must not be used afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}

// One scratch writer for single rows (returned rows, GetRow): rows are copied out at their exact
// size, so no per-row buffer is allocated beyond the result.
let scratch = new PlainBufferWriter(4096);

/** Encodes one row, header included. */
export function encodeRow(row: PlainRow): Buffer {
  scratch.truncate(0);
  scratch.header();
  scratch.row(row);
  const out = Buffer.from(scratch.finish());
  // Do not keep a huge scratch buffer after one wide row.
  if (out.length > 64 * 1024) scratch = new PlainBufferWriter(4096);
  return out;
}

/** Encodes a header and the given rows (an empty list gives an empty buffer). */
export function encodeRows(rows: readonly PlainRow[]): Buffer {
  if (rows.length === 0) return Buffer.alloc(0);
  const w = new PlainBufferWriter();
  w.header();
  for (const row of rows) w.row(row);
  return w.finish();
}

/** {@link encodeRow} for a stored row: see {@link PlainBufferWriter.storedRow}. */
export function encodeStoredRow(
  pkColumns: readonly { readonly name: string; readonly type: 'INTEGER' | 'STRING' | 'BINARY' }[],
  pk: readonly (bigint | Buffer)[],
  attributes: readonly PlainCell[],
): Buffer {
  scratch.truncate(0);
  scratch.header();
  scratch.storedRow(pkColumns, pk, attributes);
  const out = Buffer.from(scratch.finish());
  if (out.length > 64 * 1024) scratch = new PlainBufferWriter(4096);
  return out;
}
