/**
 * PlainBuffer rows of a timeline table read straight into what the backend keeps of them: the
 * timeline id, the seq as an exact bigint from its 8 bytes, the payload, the message id, and on
 * request the write id and write time. No SDK-shaped cell objects, `Int64LE`s or name strings are
 * made; a column name is recognised by comparing its bytes.
 *
 * The result is what `parseRow` (row-layout.ts) gives for the SDK decoder's row of the same bytes,
 * field for field; test/codec/direct-answers.test.ts checks it. Every checksum is verified, as
 * the SDK verifies it. A layout `parseRow` would read through `toBigInt` or odd value types (a seq
 * that is not an INTEGER, a key of type BOOLEAN, a cell operation, …) is an {@link UnusualAnswer},
 * which the caller hands to the SDK-shaped decoder instead.
 *
 * Payloads are copied out of the answer (a fresh Buffer each, as the SDK's decoder copies them):
 * the answer's buffer is a socket read that may hold other answers' bytes, and one entry a caller
 * keeps must not keep a whole page (up to 4 MB) alive.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range, crc8Uint32 } from '../../../codec/checksum.js';
import { HEADER, Tag, VariantType } from '../../../codec/plain-buffer-format.js';
import type { ResolvedColumns } from '../row-layout.js';
import { columnBytes, type NameBytes, type TimelineColumnBytes } from './column-bytes.js';
import { unusual } from './unusual-answer.js';

const EMPTY = Buffer.alloc(0);
/** Chunk columns beyond this index are left to the SDK-shaped path (messages stop far below: 64 chunks). */
const MAX_CHUNK_DIGITS = 4;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** What the timeline id cell of the last row was. */
export const IdCell = {
  /** The key has no timeline id column. */
  Absent: 0,
  /** A STRING equal to the expected timeline id. */
  Expected: 1,
  /** A STRING of another timeline. */
  Other: 2,
  /** Not a STRING: the row is not one of ours. */
  NotString: 3,
} as const;

/** One of {@link IdCell}'s values. */
export type IdCell = (typeof IdCell)[keyof typeof IdCell];

/** Reads timeline rows from PlainBuffer bytes; one instance per answer being decoded. */
export class TimelineRowReader {
  readonly #names: TimelineColumnBytes;
  readonly #chunkPrefix: Buffer;
  readonly #expectedId: string;
  /** The expected id's UTF-8 bytes, or undefined when it is not well-formed (then decoded and compared as strings). */
  readonly #expectedBytes: Buffer | undefined;
  #buf: Buffer = EMPTY;
  #pos = 0;
  #end = 0;

  /** Cells in the last row's primary key. */
  keyCells = 0;
  /** The last row's timeline id cell. */
  idCell: IdCell = IdCell.Absent;
  #idAt = 0;
  #idLength = 0;
  /** The last row's seq (its first seq cell, an INTEGER); undefined without one. */
  seq: bigint | undefined;
  /** True when the last row has a `payload` cell. */
  hasPayload = false;
  /** The last row's message id (a STRING cell), or undefined. */
  messageId: string | undefined;
  /** The last row's write id (a STRING cell), or undefined; read only with `bookkeeping`. */
  writeId: string | undefined;
  /** Version of the first bookkeeping cell with one (ms since the epoch); read only with `bookkeeping`. */
  writtenAtMs: number | undefined;
  // The payload's cells of the last row: chunk 0 (`payload`) as type and range, chunks past it in `#chunks`.
  #payloadType = -1;
  #payloadAt = 0;
  #payloadLength = 0;
  #chunks: (Uint8Array | undefined)[] | undefined;

  /**
   * @param expectedTimelineId - The timeline asked for: its rows reuse this string instead of
   *   decoding their own copy, and {@link idCell} tells them from other timelines' rows.
   */
  constructor(columns: ResolvedColumns, expectedTimelineId: string) {
    this.#names = columnBytes(columns);
    this.#chunkPrefix = Buffer.from(`${columns.payload}_`, 'utf8');
    this.#expectedId = expectedTimelineId;
    const bytes = Buffer.from(expectedTimelineId, 'utf8');
    // An id with a lone surrogate does not survive UTF-8: such rows are told apart by decoding them.
    this.#expectedBytes = bytes.toString('utf8') === expectedTimelineId ? bytes : undefined;
  }

  /** Starts reading `buf[from..to)`: a header, then rows. */
  begin(buf: Buffer, from: number, to: number): void {
    this.#buf = buf;
    this.#pos = from;
    this.#end = to;
    if (this.#u32() !== HEADER) unusual('invalid PlainBuffer header');
  }

  /** True when every row has been read. */
  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** The last row's timeline id (decoded when it is not the expected one). */
  timelineId(): string {
    if (this.idCell === IdCell.Expected) return this.#expectedId;
    return this.#buf.toString('utf8', this.#idAt, this.#idAt + this.#idLength);
  }

  /**
   * The last row's payload as `parseRow` assembles it: the `payload` cell's bytes (copied), joined
   * with its chunk cells; an empty array without one.
   */
  payload(): Uint8Array {
    const chunks = this.#chunks;
    if (chunks === undefined) return this.hasPayload ? this.#bytesOf(this.#payloadType, this.#payloadAt, this.#payloadLength, true) : new Uint8Array(0);
    if (this.hasPayload) chunks[0] = this.#bytesOf(this.#payloadType, this.#payloadAt, this.#payloadLength, false);
    return Buffer.concat(Array.from(chunks, (c) => c ?? new Uint8Array(0)));
  }

  #byte(): number {
    if (this.#pos >= this.#end) unusual('unexpected end of PlainBuffer');
    return this.#buf[this.#pos++] as number;
  }

  #peek(): number {
    return this.#pos < this.#end ? (this.#buf[this.#pos] as number) : 0;
  }

  #u32(): number {
    const p = this.#pos;
    if (p + 4 > this.#end) unusual('unexpected end of PlainBuffer');
    const b = this.#buf;
    this.#pos = p + 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16)) + (b[p + 3] as number) * 0x1000000;
  }

  #take(n: number): number {
    const at = this.#pos;
    if (at + n > this.#end) unusual('unexpected end of PlainBuffer');
    this.#pos = at + n;
    return at;
  }

  #expect(tag: number): void {
    if (this.#byte() !== tag) unusual(`expected tag 0x${tag.toString(16)} at offset ${this.#pos - 1}`);
  }

  #is(at: number, n: number, name: NameBytes): boolean {
    const bytes = name.bytes;
    if (bytes.length !== n) return false;
    const b = this.#buf;
    for (let i = 0; i < n; i++) if (b[at + i] !== bytes[i]) return false;
    return true;
  }

  /** The index of a `<payload>_<n>` chunk column, or 0 when the name is not one. */
  #chunkIndex(at: number, n: number): number {
    const prefix = this.#chunkPrefix;
    const digits = n - prefix.length;
    if (digits < 1) return 0;
    const b = this.#buf;
    for (let i = 0; i < prefix.length; i++) if (b[at + i] !== prefix[i]) return 0;
    const first = b[at + prefix.length] as number;
    if (first === DIGIT_0) return 0;
    let index = 0;
    for (let i = prefix.length; i < n; i++) {
      const c = b[at + i] as number;
      if (c < DIGIT_0 || c > DIGIT_9) return 0;
      index = index * 10 + (c - DIGIT_0);
    }
    if (digits > MAX_CHUNK_DIGITS) unusual('a payload chunk column with a very large index');
    return index;
  }

  /** A value as `toBytes` of the SDK's value gives it: binary copied (or viewed, `copy` false), a string's UTF-8, else empty. */
  #bytesOf(type: number, at: number, n: number, copy: boolean): Uint8Array {
    if (type === VariantType.BLOB) {
      if (!copy) return this.#buf.subarray(at, at + n);
      const out = Buffer.allocUnsafe(n);
      this.#buf.copy(out, 0, at, at + n);
      return out;
    }
    if (type === VariantType.STRING) return Buffer.from(this.#buf.toString('utf8', at, at + n), 'utf8');
    return new Uint8Array(0);
  }

  #keyCells(): number {
    const names = this.#names;
    const b = this.#buf;
    let rowCrc = 0;
    while (this.#peek() === Tag.CELL) {
      this.#pos++;
      this.#expect(Tag.CELL_NAME);
      const nameLength = this.#u32();
      const nameAt = this.#take(nameLength);
      this.#expect(Tag.CELL_VALUE);
      this.#u32();
      const type = this.#byte();
      let crc = crc8Byte(crc8Range(0, b, nameAt, nameAt + nameLength), type);
      let at: number;
      let n = 8;
      if (type === VariantType.INTEGER) {
        at = this.#take(8);
      } else if (type === VariantType.STRING || type === VariantType.BLOB) {
        n = this.#u32();
        crc = crc8Uint32(crc, n);
        at = this.#take(n);
      } else {
        unusual(`primary key value of type ${type}`);
      }
      crc = crc8Range(crc, b, at, at + n);
      this.#expect(Tag.CELL_CHECKSUM);
      if (this.#byte() !== crc) unusual('cell checksum mismatch');
      rowCrc = crc8Byte(rowCrc, crc);
      this.keyCells++;
      if (this.idCell === IdCell.Absent && this.#is(nameAt, nameLength, names.timelineId)) {
        if (type !== VariantType.STRING) this.idCell = IdCell.NotString;
        else {
          this.#idAt = at;
          this.#idLength = n;
          this.idCell = this.#isExpected(at, n) ? IdCell.Expected : IdCell.Other;
        }
      } else if (this.seq === undefined && this.#is(nameAt, nameLength, names.seq)) {
        if (type !== VariantType.INTEGER) unusual('a seq that is not an INTEGER');
        this.seq = b.readBigInt64LE(at);
      }
    }
    return rowCrc;
  }

  #isExpected(at: number, n: number): boolean {
    const bytes = this.#expectedBytes;
    if (bytes === undefined) return this.#buf.toString('utf8', at, at + n) === this.#expectedId;
    if (bytes.length !== n) return false;
    const b = this.#buf;
    for (let i = 0; i < n; i++) if (b[at + i] !== bytes[i]) return false;
    return true;
  }

  #attributeCells(rowCrcIn: number, bookkeeping: boolean): number {
    const names = this.#names;
    const b = this.#buf;
    let rowCrc = rowCrcIn;
    let messageIdAt = -1;
    let messageIdLength = 0;
    let writeIdAt = -1;
    let writeIdLength = 0;
    while (this.#peek() === Tag.CELL) {
      this.#pos++;
      this.#expect(Tag.CELL_NAME);
      const nameLength = this.#u32();
      const nameAt = this.#take(nameLength);
      let crc = crc8Range(0, b, nameAt, nameAt + nameLength);
      let type = -1;
      let at = 0;
      let n = 0;
      if (this.#peek() === Tag.CELL_VALUE) {
        this.#pos++;
        this.#u32();
        type = this.#byte();
        crc = crc8Byte(crc, type);
        if (type === VariantType.STRING || type === VariantType.BLOB) {
          n = this.#u32();
          crc = crc8Uint32(crc, n);
          at = this.#take(n);
          crc = crc8Range(crc, b, at, at + n);
        } else if (type === VariantType.INTEGER || type === VariantType.DOUBLE) {
          at = this.#take(8);
          crc = crc8Range(crc, b, at, at + 8);
        } else if (type === VariantType.BOOLEAN) {
          crc = crc8Byte(crc, this.#byte() !== 0 ? 1 : 0);
        } else {
          unusual(`column value of type ${type}`);
        }
      }
      if (this.#peek() === Tag.CELL_TYPE) unusual('a cell operation in an answer');
      let timestampAt = -1;
      if (this.#peek() === Tag.CELL_TIMESTAMP) {
        this.#pos++;
        timestampAt = this.#take(8);
        crc = crc8Range(crc, b, timestampAt, timestampAt + 8);
      }
      this.#expect(Tag.CELL_CHECKSUM);
      if (this.#byte() !== crc) unusual('cell checksum mismatch');
      rowCrc = crc8Byte(rowCrc, crc);
      // Which of the backend's columns this is, in parseRow's order; other columns are skipped.
      const chunk = nameLength > names.payload.bytes.length + 1 && b[nameAt] === names.payload.bytes[0] ? this.#chunkIndex(nameAt, nameLength) : 0;
      if (this.#is(nameAt, nameLength, names.payload)) {
        this.hasPayload = true;
        this.#payloadType = type;
        this.#payloadAt = at;
        this.#payloadLength = n;
      } else if (chunk > 0) {
        this.#chunks ??= [];
        this.#chunks[chunk] = this.#bytesOf(type, at, n, false);
      } else if (type === VariantType.STRING && this.#is(nameAt, nameLength, names.messageId)) {
        messageIdAt = at;
        messageIdLength = n;
      } else if (type === VariantType.STRING && this.#is(nameAt, nameLength, names.writeId)) {
        writeIdAt = at;
        writeIdLength = n;
      } else {
        continue;
      }
      if (bookkeeping && this.writtenAtMs === undefined && timestampAt >= 0) this.writtenAtMs = Number(b.readBigInt64LE(timestampAt));
    }
    if (messageIdAt >= 0) this.messageId = b.toString('utf8', messageIdAt, messageIdAt + messageIdLength);
    if (bookkeeping && writeIdAt >= 0) this.writeId = b.toString('utf8', writeIdAt, writeIdAt + writeIdLength);
    return rowCrc;
  }

  /**
   * Reads the next row. `bookkeeping` also reads the write id and the write time (settling
   * ambiguous writes); without it they stay undefined.
   */
  readRow(bookkeeping: boolean): void {
    this.keyCells = 0;
    this.idCell = IdCell.Absent;
    this.seq = undefined;
    this.hasPayload = false;
    this.messageId = undefined;
    this.writeId = undefined;
    this.writtenAtMs = undefined;
    this.#payloadType = -1;
    this.#chunks = undefined;
    // A row without a key is no entry (parseRow skips it); the service never sends one.
    if (this.#peek() !== Tag.ROW_PK) unusual('a row without a primary key');
    this.#pos++;
    let rowCrc = this.#keyCells();
    if (this.#peek() === Tag.ROW_DATA) {
      this.#pos++;
      rowCrc = this.#attributeCells(rowCrc, bookkeeping);
    }
    if (this.#peek() === Tag.DELETE_ROW_MARKER) {
      this.#pos++;
      rowCrc = crc8Byte(rowCrc, 1);
    } else {
      rowCrc = crc8Byte(rowCrc, 0);
    }
    this.#expect(Tag.ROW_CHECKSUM);
    if (this.#byte() !== rowCrc) unusual('row checksum mismatch');
  }
}
