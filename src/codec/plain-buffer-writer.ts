/**
 * PlainBuffer encoding into one growing buffer: no allocation per byte or per field, checksums
 * folded over the bytes just written. See plain-buffer-reader.ts for the layout.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Int64, crc8Range, crc8Uint32 } from './checksum.js';
import { HEADER, Tag, VariantType, type PlainCell, type PlainRow, type PlainValue } from './plain-buffer-format.js';

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
        if (value.type === 'INTEGER') b.writeBigInt64LE(BigInt.asIntN(64, value.value), at);
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
    this.#byte(Tag.CELL_NAME);
    const start = this.#prefixedUtf8(name);
    let crc = crc8Range(0, this.#buf, start, this.#pos);
    if (value !== undefined) crc = this.#value(value, crc);
    if (op !== undefined) {
      this.#byte(Tag.CELL_TYPE);
      this.#byte(op);
    }
    if (timestamp !== undefined) {
      this.#ensure(9);
      this.#buf[this.#pos] = Tag.CELL_TIMESTAMP;
      this.#buf.writeBigInt64LE(BigInt.asIntN(64, timestamp), this.#pos + 1);
      this.#pos += 9;
      crc = crc8Int64(crc, timestamp);
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
    this.#byte(Tag.CELL_NAME);
    const nameAt = this.#prefixedUtf8(name);
    let crc = crc8Range(0, this.#buf, nameAt, this.#pos);
    if (type === 'INTEGER') crc = this.#value({ type: 'INTEGER', value: v as bigint }, crc);
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
