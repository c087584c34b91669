/**
 * PlainBuffer rows decoded into the shapes the official Node SDK's `PlainBufferCodedInputStream`
 * returns: `{ primaryKey: [{ name, value }], attributes: [{ columnName, columnValue, timestamp }] }`,
 * INTEGER values and timestamps as the SDK's `Int64LE`, binary values as copied Buffers, every
 * checksum verified. Trailing bytes after a single row are ignored, as the SDK ignores them.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range, crc8Uint32 } from './checksum.js';
import { HEADER, PlainBufferError, Tag, VariantType } from './plain-buffer-format.js';
import type { Int64Constructor } from './sdk-binding.js';

const EMPTY = Buffer.alloc(0);

/** A primary-key cell as the SDK returns it. */
export interface SdkPkCell {
  name: string;
  value: unknown;
}

/** An attribute cell as the SDK returns it (`timestamp` is an `Int64LE` or null). */
export interface SdkAttrCell {
  columnName: string;
  columnValue: unknown;
  timestamp: unknown;
}

/** A row as the SDK returns it. */
export interface SdkRowShape {
  primaryKey: SdkPkCell[];
  attributes: SdkAttrCell[];
}

/** Reads SDK-shaped rows from PlainBuffer bytes. */
export class SdkRowReader {
  readonly #Int64: Int64Constructor;
  #buf: Buffer = EMPTY;
  #pos = 0;
  #end = 0;
  #crc = 0;

  constructor(Int64: Int64Constructor) {
    this.#Int64 = Int64;
  }

  #fail(what: string): never {
    throw new PlainBufferError(`${what} at offset ${this.#pos}`);
  }

  #byte(): number {
    if (this.#pos >= this.#end) this.#fail('unexpected end of PlainBuffer');
    return this.#buf[this.#pos++] as number;
  }

  #peek(): number {
    return this.#pos < this.#end ? (this.#buf[this.#pos] as number) : 0;
  }

  #u32(): number {
    if (this.#pos + 4 > this.#end) this.#fail('unexpected end of PlainBuffer');
    const v = this.#buf.readUInt32LE(this.#pos);
    this.#pos += 4;
    return v;
  }

  #take(n: number): number {
    if (n < 0 || this.#pos + n > this.#end) this.#fail('unexpected end of PlainBuffer');
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  /** A copy of `n` bytes at `at` (no intermediate view). */
  #copy(at: number, n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    const src = this.#buf;
    if (n <= 16) for (let i = 0; i < n; i++) out[i] = src[at + i] as number;
    else src.copy(out, 0, at, at + n);
    return out;
  }

  #int64(crcIn: number): unknown {
    const at = this.#take(8);
    this.#crc = crc8Range(crcIn, this.#buf, at, at + 8);
    return new this.#Int64(this.#copy(at, 8));
  }

  #expect(tag: number, what: string): void {
    const got = this.#byte();
    if (got !== tag) this.#fail(`expected ${what} but got 0x${got.toString(16)}`);
  }

  #name(): [string, number] {
    this.#expect(Tag.CELL_NAME, 'TAG_CELL_NAME');
    const n = this.#u32();
    const at = this.#take(n);
    return [this.#buf.toString('utf8', at, at + n), crc8Range(0, this.#buf, at, at + n)];
  }

  /** A value after `TAG_CELL_VALUE`; its checksum is left in `#crc`. */
  #value(crcIn: number, primaryKey: boolean): unknown {
    this.#u32();
    const type = this.#byte();
    let crc = crc8Byte(crcIn, type);
    let value: unknown;
    switch (type) {
      case VariantType.INTEGER:
        value = this.#int64(crc);
        crc = this.#crc;
        break;
      case VariantType.STRING:
      case VariantType.BLOB: {
        const n = this.#u32();
        const at = this.#take(n);
        crc = crc8Range(crc8Uint32(crc, n), this.#buf, at, at + n);
        value = type === VariantType.STRING ? this.#buf.toString('utf8', at, at + n) : this.#copy(at, n);
        break;
      }
      case VariantType.BOOLEAN:
        if (primaryKey) this.#fail('Unsupported primary key type 2');
        value = this.#byte() !== 0;
        crc = crc8Byte(crc, value ? 1 : 0);
        break;
      case VariantType.DOUBLE: {
        if (primaryKey) this.#fail('Unsupported primary key type 1');
        const at = this.#take(8);
        crc = crc8Range(crc, this.#buf, at, at + 8);
        value = this.#buf.readDoubleLE(at);
        break;
      }
      default:
        this.#fail(`Unsupported ${primaryKey ? 'primary key' : 'column'} type ${type}`);
    }
    this.#crc = crc;
    return value;
  }

  #rowBody(): SdkRowShape {
    let rowCrc = 0;
    const primaryKey: SdkPkCell[] = [];
    const attributes: SdkAttrCell[] = [];
    if (this.#peek() === Tag.ROW_PK) {
      this.#pos++;
      while (this.#peek() === Tag.CELL) {
        this.#pos++;
        const [name, nameCrc] = this.#name();
        this.#expect(Tag.CELL_VALUE, 'TAG_CELL_VALUE');
        const value = this.#value(nameCrc, true);
        const crc = this.#crc;
        this.#expect(Tag.CELL_CHECKSUM, 'TAG_CELL_CHECKSUM');
        if (this.#byte() !== crc) this.#fail('Checksum mismatch');
        primaryKey.push({ name, value });
        rowCrc = crc8Byte(rowCrc, crc);
      }
    }
    if (this.#peek() === Tag.ROW_DATA) {
      this.#pos++;
      while (this.#peek() === Tag.CELL) {
        this.#pos++;
        const [columnName, nameCrc] = this.#name();
        let crc = nameCrc;
        let columnValue: unknown = null;
        let timestamp: unknown = null;
        if (this.#peek() === Tag.CELL_VALUE) {
          this.#pos++;
          columnValue = this.#value(crc, false);
          crc = this.#crc;
        }
        // The SDK cannot read a cell operation in a response (it fails on one); no service sends it.
        if (this.#peek() === Tag.CELL_TYPE) this.#fail('unexpected TAG_CELL_TYPE in a response row');
        if (this.#peek() === Tag.CELL_TIMESTAMP) {
          this.#pos++;
          timestamp = this.#int64(crc);
          crc = this.#crc;
        }
        this.#expect(Tag.CELL_CHECKSUM, 'TAG_CELL_CHECKSUM');
        if (this.#byte() !== crc) this.#fail('Checksum mismatch');
        attributes.push({ columnName, columnValue, timestamp });
        rowCrc = crc8Byte(rowCrc, crc);
      }
    }
    if (this.#peek() === Tag.DELETE_ROW_MARKER) {
      this.#pos++;
      rowCrc = crc8Byte(rowCrc, 1);
    } else {
      rowCrc = crc8Byte(rowCrc, 0);
    }
    this.#expect(Tag.ROW_CHECKSUM, 'TAG_ROW_CHECKSUM');
    if (this.#byte() !== rowCrc) this.#fail('Checksum is mismatch');
    return { primaryKey, attributes };
  }

  #start(buf: Buffer): void {
    this.#buf = buf;
    this.#pos = 0;
    this.#end = buf.length;
    if (this.#u32() !== HEADER) this.#fail('Invalid header from plain buffer');
  }

  /** The SDK's `readRow()`: one row; bytes after it are ignored. */
  row(buf: Buffer): SdkRowShape {
    this.#start(buf);
    const row = this.#rowBody();
    this.#buf = EMPTY;
    return row;
  }

  /** The SDK's `readRows()`: rows until the end of the buffer. */
  rows(buf: Buffer): SdkRowShape[] {
    this.#start(buf);
    const out: SdkRowShape[] = [];
    while (this.#pos < this.#end) out.push(this.#rowBody());
    this.#buf = EMPTY;
    return out;
  }
}
