/**
 * PlainBuffer encoding of SDK-shaped rows, byte for byte as the official Node SDK's
 * `PlainBufferBuilder` produces them — including its quirks, because the bytes (and so the
 * request's MD5 and signature) must be identical:
 * - each row is sized first by the SDK's own formula and the unused tail is sent as zero bytes
 *   (one per INF_MIN / INF_MAX / PK_AUTO_INCR key, unwritten keys of multi-key attribute objects,
 *   the `timestamp` key of an update's PUT, …); a row that outgrows that size is refused with the
 *   SDK's "The buffer is full" error;
 * - a cell name's length prefix is its UTF-16 length (`name.length`), its bytes are UTF-8.
 *
 * Rows are written one after another into shared chunks and returned as views, so a request
 * allocates a chunk per 64 KiB rather than a zero-filled Buffer per row. Attribute cells that
 * repeat within one request (the same payload fanned out to many rows) are encoded and
 * checksummed once and copied afterwards.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range } from './checksum.js';
import { CellOp, HEADER, Tag, VariantType } from './plain-buffer-format.js';
import { writeInt64Bytes, type Int64Value, type ResolvedBinding } from './sdk-binding.js';

/** An SDK primary key: `[{ name: value }, …]`. */
export type SdkPrimaryKey = readonly Record<string, unknown>[];

const CHUNK_BYTES = 64 * 1024;
/** Values at least this long are worth remembering for the rest of the request. */
const CACHE_MIN_BYTES = 128;
const UPDATE_PUT = 'PUT';
const UPDATE_DELETE = 'DELETE';
const UPDATE_DELETE_ALL = 'DELETE_ALL';
const UPDATE_INCREMENT = 'INCREMENT';

interface CachedCell {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
  /** The encoded cell (a view of an earlier row). */
  readonly bytes: Buffer;
  readonly crc: number;
}

/** Column names seen: their UTF-8 bytes and CRC-8 (names repeat on every row; bounded, never evicted). */
const NAMES = new Map<string, { readonly bytes: Buffer; readonly crc: number }>();
const MAX_NAMES = 4096;

function nameOf(name: string): { readonly bytes: Buffer; readonly crc: number } {
  let known = NAMES.get(name);
  if (known === undefined) {
    const bytes = Buffer.from(name, 'utf8');
    known = { bytes, crc: crc8Range(0, bytes, 0, bytes.length) };
    if (NAMES.size < MAX_NAMES) NAMES.set(name, known);
  }
  return known;
}

function isArray(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

/** Encodes SDK-shaped rows into PlainBuffer, identical to the SDK. One instance per codec; not re-entrant. */
export class SdkPlainBufferEncoder {
  readonly #b: ResolvedBinding;
  #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #pos = 0;
  // Cells seen in this request: binary values by their memory, strings by value.
  #binaryCells = new Map<ArrayBufferLike, CachedCell[]>();
  #stringCells = new Map<string, CachedCell[]>();
  // Sizes computed by the last size pass: the SDK's buffer size and the bytes actually written.
  #cap = 0;
  #exact = 0;

  constructor(binding: ResolvedBinding) {
    this.#b = binding;
  }

  /** Forgets the cells of the previous request (call at the start of every request). */
  startRequest(): void {
    if (this.#binaryCells.size > 0) this.#binaryCells = new Map();
    if (this.#stringCells.size > 0) this.#stringCells = new Map();
    // The previous request's rows were copied into its body: their bytes may be overwritten. A
    // chunk grown for one huge row is dropped rather than kept.
    if (this.#chunk.length > CHUNK_BYTES) this.#chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.#pos = 0;
  }

  // ---- sizes (the SDK's formula and the exact one, in one pass) ----

  #isMarker(v: unknown): boolean {
    return v === this.#b.infMin || v === this.#b.infMax || v === this.#b.autoIncrement;
  }

  #pkValueSize(v: unknown): void {
    if (this.#isMarker(v)) {
      this.#cap += 7;
      this.#exact += 6;
    } else if (v instanceof this.#b.Int64) {
      this.#cap += 14;
      this.#exact += 14;
    } else if (typeof v === 'string') {
      const n = 10 + Buffer.byteLength(v);
      this.#cap += n;
      this.#exact += n;
    } else if (v instanceof Buffer) {
      this.#cap += 10 + v.length;
      this.#exact += 10 + v.length;
    } else {
      throw new Error('Unsupported primary key type:' + typeof v);
    }
  }

  #primaryKeySize(pk: unknown): void {
    this.#cap += 1;
    this.#exact += 1;
    if (!isArray(pk)) throw new Error('Invalid primaryKey, the type of primaryKey should be array.');
    for (let i = 0; i < pk.length; i++) {
      const cell = pk[i] as Record<string, unknown>;
      for (const name in cell) {
        // The SDK sizes the name by its UTF-16 length and writes its UTF-8 bytes.
        this.#cap += 8 + name.length;
        this.#exact += 8 + nameOf(name).bytes.length;
        this.#pkValueSize(cell[name]);
      }
    }
  }

  /** The SDK's `computeColumnValueSize`. */
  #columnValueSize(v: unknown): number {
    if (typeof v === 'number') return 14;
    if (typeof v === 'string') return 10 + Buffer.byteLength(v);
    if (v instanceof Buffer) return 10 + v.length;
    if (typeof v === 'boolean') return 7;
    if (v instanceof this.#b.Int64) return 14;
    throw new Error('Unsupported column type: ' + typeof v);
  }

  /** The SDK's `computeColumnSize`. */
  #columnSizeCap(name: string, v: unknown, timestamp: unknown, hasTimestampArg: boolean): number {
    let n = 8 + nameOf(name).bytes.length;
    if (v !== null) n += this.#columnValueSize(v);
    if (hasTimestampArg && timestamp !== undefined) n += 9;
    return n;
  }

  /** Bytes the writer really emits for one attribute cell. */
  #columnSizeExact(name: string, v: unknown, timestamp: unknown, op: boolean): number {
    let n = 8 + nameOf(name).bytes.length;
    if (v !== null && v !== undefined) n += this.#columnValueSize(v);
    if (timestamp !== null && timestamp !== undefined) n += 9;
    if (op) n += 2;
    return n;
  }

  #putColumnsSize(columns: unknown): void {
    const cols = columns as Record<string, unknown>[] | undefined | null;
    if (cols && cols.length !== 0) {
      this.#cap += 1;
      for (let i = 0; i < cols.length; i++) {
        const obj = cols[i] as Record<string, unknown>;
        if (obj.timestamp === undefined) {
          for (const k in obj) this.#cap += this.#columnSizeCap(k, obj[k], undefined, false);
        } else {
          for (const k in obj) {
            this.#cap += this.#columnSizeCap(k, obj[k], obj.timestamp, true);
            break;
          }
        }
      }
    }
    if (!isArray(columns)) throw new Error('Invalid attributeColumns, the type of attributeColumns should be array.');
    if (columns.length !== 0) {
      this.#exact += 1;
      for (let i = 0; i < columns.length; i++) {
        const obj = columns[i] as Record<string, unknown>;
        for (const k in obj) {
          if (obj[k] === null || obj[k] === undefined) throw new Error('Unsupported column type ' + typeof obj[k]);
          this.#exact += this.#columnSizeExact(k, obj[k], obj.timestamp, false);
          break;
        }
      }
    }
  }

  #updateColumnsSize(columns: unknown): void {
    const cols = columns as Record<string, unknown>[];
    if (cols.length !== 0) {
      this.#cap += 1;
      for (let i = 0; i < cols.length; i++) {
        const group = cols[i] as Record<string, unknown>;
        for (const type in group) {
          const list = group[type] as Record<string, unknown>;
          for (const at in list) {
            if (type === UPDATE_DELETE_ALL) {
              this.#cap += this.#columnSizeCap(list[at] as string, null, undefined, false) + 2;
            } else if (type === UPDATE_PUT || type === UPDATE_DELETE || type === UPDATE_INCREMENT) {
              const obj = list[at] as Record<string, unknown>;
              for (const k in obj) this.#cap += this.#columnSizeCap(k, obj[k], undefined, false) + (type === UPDATE_PUT ? 0 : 2);
            } else {
              throw new Error('Expect TableStore.UpdateType but it was:' + type);
            }
          }
          break;
        }
      }
    }
    if (!isArray(columns)) throw new Error('Invalid attributeColumns, the type of attributeColumns should be array.');
    if (columns.length === 0) return;
    this.#exact += 1;
    for (let i = 0; i < columns.length; i++) {
      const group = columns[i] as Record<string, unknown>;
      for (const type in group) {
        const list = group[type] as Record<string, unknown>;
        for (const at in list) {
          if (type === UPDATE_DELETE_ALL) {
            this.#exact += this.#columnSizeExact(list[at] as string, null, null, true);
          } else if (type === UPDATE_DELETE) {
            const obj = list[at] as Record<string, unknown>;
            for (const k in obj) this.#exact += this.#columnSizeExact(k, null, obj[k], true);
          } else if (type === UPDATE_PUT || type === UPDATE_INCREMENT) {
            const obj = list[at] as Record<string, unknown>;
            for (const k in obj) {
              this.#exact += this.#columnSizeExact(k, obj[k], obj.timestamp === undefined ? null : obj.timestamp, type === UPDATE_INCREMENT);
              break;
            }
          }
        }
      }
    }
  }

  // ---- writing ----

  /** Reserves the SDK's buffer size for one row; refuses a row the SDK's buffer could not hold. */
  #begin(): number {
    if (this.#exact > this.#cap) throw new Error('The buffer is full');
    if (this.#pos + this.#cap > this.#chunk.length) {
      this.#chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, this.#cap));
      this.#pos = 0;
    }
    return this.#pos;
  }

  /** Zero-fills the rest of the SDK-sized row and returns it. */
  #end(start: number): Buffer {
    const end = start + this.#cap;
    if (this.#pos < end) this.#chunk.fill(0, this.#pos, end);
    this.#pos = end;
    return this.#chunk.subarray(start, end);
  }

  #byte(v: number): void {
    this.#chunk[this.#pos++] = v;
  }

  #u32(v: number): void {
    this.#chunk.writeUInt32LE(v >>> 0, this.#pos);
    this.#pos += 4;
  }

  /** `TAG_CELL_NAME`, the UTF-16 length, the UTF-8 bytes; returns the name's checksum. */
  #cellName(name: string): number {
    const known = nameOf(name);
    const bytes = known.bytes;
    const n = bytes.length;
    const c = this.#chunk;
    let p = this.#pos;
    c[p++] = Tag.CELL_NAME;
    c.writeUInt32LE(name.length, p);
    p += 4;
    if (n <= 32) for (let i = 0; i < n; i++) c[p + i] = bytes[i] as number;
    else c.set(bytes, p);
    this.#pos = p + n;
    return known.crc;
  }

  /** Length-prefixed string or binary payload after its type byte; returns the checksum. */
  #bytesPayload(type: number, v: string | Buffer, crcIn: number, withTotal: boolean): number {
    const c = this.#chunk;
    const lenAt = this.#pos;
    if (withTotal) this.#pos += 4;
    c[this.#pos] = type;
    const dataAt = this.#pos + 5;
    const n = typeof v === 'string' ? c.write(v, dataAt, 'utf8') : (c.set(v, dataAt), v.length);
    c.writeUInt32LE(n, this.#pos + 1);
    if (withTotal) c.writeUInt32LE(5 + n, lenAt);
    this.#pos = dataAt + n;
    let crc = crc8Byte(crcIn, type);
    crc = crc8Byte(crc8Byte(crc8Byte(crc8Byte(crc, n & 0xff), (n >>> 8) & 0xff), (n >>> 16) & 0xff), (n >>> 24) & 0xff);
    return crc8Range(crc, c, dataAt, dataAt + n);
  }

  #fixed8(type: number, crcIn: number, withTotal: boolean, write: (c: Buffer, at: number) => void): number {
    if (withTotal) this.#u32(9);
    this.#byte(type);
    const at = this.#pos;
    write(this.#chunk, at);
    this.#pos += 8;
    return crc8Range(crc8Byte(crcIn, type), this.#chunk, at, at + 8);
  }

  #primaryKeyValue(v: unknown, crcIn: number): number {
    this.#byte(Tag.CELL_VALUE);
    const b = this.#b;
    if (v === b.infMin || v === b.infMax || v === b.autoIncrement) {
      const type = v === b.infMin ? VariantType.INF_MIN : v === b.infMax ? VariantType.INF_MAX : VariantType.AUTO_INCREMENT;
      this.#u32(1);
      this.#byte(type);
      return crc8Byte(crcIn, type);
    }
    if (v instanceof b.Int64) return this.#fixed8(VariantType.INTEGER, crcIn, true, (c, at) => writeInt64Bytes(v, c, at));
    if (typeof v === 'string') return this.#bytesPayload(VariantType.STRING, v, crcIn, true);
    if (v instanceof Buffer) return this.#bytesPayload(VariantType.BLOB, v, crcIn, true);
    throw new Error('Unsupported primary key type: ' + typeof v);
  }

  /** A column value (with or without the total-length prefix); returns the checksum. */
  #columnValue(v: unknown, crcIn: number, withTotal: boolean): number {
    if (v instanceof this.#b.Int64) return this.#fixed8(VariantType.INTEGER, crcIn, withTotal, (c, at) => writeInt64Bytes(v as Int64Value, c, at));
    if (typeof v === 'string') return this.#bytesPayload(VariantType.STRING, v, crcIn, withTotal);
    if (v instanceof Buffer) return this.#bytesPayload(VariantType.BLOB, v, crcIn, withTotal);
    if (typeof v === 'boolean') {
      if (withTotal) this.#u32(2);
      this.#byte(VariantType.BOOLEAN);
      this.#byte(v ? 1 : 0);
      return crc8Byte(crc8Byte(crcIn, VariantType.BOOLEAN), v ? 1 : 0);
    }
    if (typeof v === 'number') return this.#fixed8(VariantType.DOUBLE, crcIn, withTotal, (c, at) => c.writeDoubleLE(v, at));
    throw new Error('Unsupported column type ' + typeof v);
  }

  /** `TAG_CELL_TIMESTAMP` and the SDK's `Long.fromNumber(timestamp)` bytes; returns the checksum. */
  #timestamp(ts: unknown, crcIn: number): number {
    this.#byte(Tag.CELL_TIMESTAMP);
    const at = this.#pos;
    const c = this.#chunk;
    if (typeof ts === 'number' && Number.isInteger(ts) && Math.abs(ts) < 2 ** 47) {
      c.writeIntLE(ts, at, 6);
      const sign = ts < 0 ? 0xff : 0;
      c[at + 6] = sign;
      c[at + 7] = sign;
    } else {
      writeInt64Bytes(this.#b.longFromNumber(ts as number), c, at);
    }
    this.#pos += 8;
    return crc8Range(crcIn, c, at, at + 8);
  }

  #primaryKey(pk: SdkPrimaryKey, rowCrc: number): number {
    this.#byte(Tag.ROW_PK);
    let crc = rowCrc;
    for (let i = 0; i < pk.length; i++) {
      const cell = pk[i] as Record<string, unknown>;
      for (const name in cell) {
        this.#byte(Tag.CELL);
        let cellCrc = this.#cellName(name);
        cellCrc = this.#primaryKeyValue(cell[name], cellCrc);
        this.#byte(Tag.CELL_CHECKSUM);
        this.#byte(cellCrc);
        crc = crc8Byte(crc, cellCrc);
      }
    }
    return crc;
  }

  /** The cache entry list a value belongs to, or undefined when it is not worth caching. */
  #cacheList(v: unknown, create: boolean): CachedCell[] | undefined {
    let map: Map<unknown, CachedCell[]>;
    let key: unknown;
    if (v instanceof Buffer) {
      if (v.length < CACHE_MIN_BYTES) return undefined;
      map = this.#binaryCells;
      key = v.buffer;
    } else if (typeof v === 'string') {
      if (v.length < CACHE_MIN_BYTES) return undefined;
      map = this.#stringCells as Map<unknown, CachedCell[]>;
      key = v;
    } else {
      return undefined;
    }
    let list = map.get(key);
    if (list === undefined && create) {
      list = [];
      map.set(key, list);
    }
    return list;
  }

  /** One attribute cell without operation; remembered when its value repeats later in the request. */
  #plainColumn(name: string, v: unknown, ts: unknown, rowCrc: number): number {
    const cacheable = ts === null || ts === undefined;
    const offset = v instanceof Buffer ? v.byteOffset : 0;
    const length = v instanceof Buffer || typeof v === 'string' ? v.length : 0;
    const list = cacheable ? this.#cacheList(v, false) : undefined;
    if (list !== undefined) {
      for (const hit of list) {
        if (hit.name === name && hit.offset === offset && hit.length === length) {
          this.#chunk.set(hit.bytes, this.#pos);
          this.#pos += hit.bytes.length;
          return crc8Byte(rowCrc, hit.crc);
        }
      }
    }
    const start = this.#pos;
    this.#byte(Tag.CELL);
    let cellCrc = this.#cellName(name);
    this.#byte(Tag.CELL_VALUE);
    cellCrc = this.#columnValue(v, cellCrc, true);
    if (ts !== null && ts !== undefined) cellCrc = this.#timestamp(ts, cellCrc);
    this.#byte(Tag.CELL_CHECKSUM);
    this.#byte(cellCrc);
    if (cacheable) {
      const into = this.#cacheList(v, true);
      into?.push({ name, offset, length, bytes: this.#chunk.subarray(start, this.#pos), crc: cellCrc });
    }
    return crc8Byte(rowCrc, cellCrc);
  }

  #updateColumn(type: string, name: string, v: unknown, ts: unknown, rowCrc: number): number {
    this.#byte(Tag.CELL);
    let cellCrc = this.#cellName(name);
    if (v !== null && v !== undefined) {
      this.#byte(Tag.CELL_VALUE);
      cellCrc = this.#columnValue(v, cellCrc, true);
    }
    const op = type === UPDATE_DELETE ? CellOp.DELETE_ONE_VERSION : type === UPDATE_DELETE_ALL ? CellOp.DELETE_ALL_VERSIONS : type === UPDATE_INCREMENT ? CellOp.INCREMENT : undefined;
    if (op !== undefined) {
      this.#byte(Tag.CELL_TYPE);
      this.#byte(op);
    }
    if (ts !== null && ts !== undefined) cellCrc = this.#timestamp(ts, cellCrc);
    // The operation byte is written before the timestamp but checksummed after it.
    if (op !== undefined) cellCrc = crc8Byte(cellCrc, op);
    this.#byte(Tag.CELL_CHECKSUM);
    this.#byte(cellCrc);
    return crc8Byte(rowCrc, cellCrc);
  }

  #endRow(rowCrc: number, deleteMarker: boolean): void {
    if (deleteMarker) this.#byte(Tag.DELETE_ROW_MARKER);
    this.#byte(Tag.ROW_CHECKSUM);
    this.#byte(crc8Byte(rowCrc, deleteMarker ? 1 : 0));
  }

  #header(): void {
    this.#u32(HEADER);
  }

  /** `PlainBufferBuilder.serializePrimaryKey`: a primary key as a row of its own (GetRow, GetRange bounds). */
  primaryKey(pk: unknown): Buffer {
    this.#cap = 6;
    this.#exact = 6;
    this.#primaryKeySize(pk);
    const start = this.#begin();
    this.#header();
    this.#endRow(this.#primaryKey(pk as SdkPrimaryKey, 0), false);
    return this.#end(start);
  }

  /** `PlainBufferBuilder.serializeForPutRow`. */
  putRow(pk: unknown, columns: unknown): Buffer {
    this.#cap = 6;
    this.#exact = 6;
    this.#primaryKeySize(pk);
    this.#putColumnsSize(columns);
    const start = this.#begin();
    this.#header();
    let crc = this.#primaryKey(pk as SdkPrimaryKey, 0);
    const cols = columns as readonly Record<string, unknown>[];
    if (cols.length !== 0) {
      this.#byte(Tag.ROW_DATA);
      for (let i = 0; i < cols.length; i++) {
        const obj = cols[i] as Record<string, unknown>;
        for (const k in obj) {
          crc = this.#plainColumn(k, obj[k], obj.timestamp, crc);
          break;
        }
      }
    }
    this.#endRow(crc, false);
    return this.#end(start);
  }

  /** `PlainBufferBuilder.serializeForUpdateRow`. */
  updateRow(pk: unknown, columns: unknown): Buffer {
    this.#cap = 6;
    this.#exact = 6;
    this.#primaryKeySize(pk);
    this.#updateColumnsSize(columns);
    const start = this.#begin();
    this.#header();
    let crc = this.#primaryKey(pk as SdkPrimaryKey, 0);
    const cols = columns as readonly Record<string, unknown>[];
    if (cols.length !== 0) {
      this.#byte(Tag.ROW_DATA);
      for (let i = 0; i < cols.length; i++) {
        const group = cols[i] as Record<string, unknown>;
        for (const type in group) {
          const list = group[type] as Record<string, unknown>;
          for (const at in list) {
            if (type === UPDATE_DELETE_ALL) {
              crc = this.#updateColumn(type, list[at] as string, null, null, crc);
            } else if (type === UPDATE_DELETE) {
              const obj = list[at] as Record<string, unknown>;
              for (const k in obj) crc = this.#updateColumn(type, k, null, obj[k], crc);
            } else if (type === UPDATE_PUT || type === UPDATE_INCREMENT) {
              const obj = list[at] as Record<string, unknown>;
              for (const k in obj) {
                crc = this.#updateColumn(type, k, obj[k], obj.timestamp === undefined ? null : obj.timestamp, crc);
                break;
              }
            }
          }
        }
      }
    }
    this.#endRow(crc, false);
    return this.#end(start);
  }

  /** `PlainBufferBuilder.serializeForDeleteRow`. */
  deleteRow(pk: unknown): Buffer {
    this.#cap = 7;
    this.#exact = 7;
    this.#primaryKeySize(pk);
    const start = this.#begin();
    this.#header();
    this.#endRow(this.#primaryKey(pk as SdkPrimaryKey, 0), true);
    return this.#end(start);
  }

  /** `PlainBufferBuilder.serializeColumnValue`: a bare variant (type byte and payload), as filters carry it. */
  columnValue(v: unknown): Buffer {
    this.#cap = this.#columnValueSize(v) - 5;
    this.#exact = this.#cap;
    const start = this.#begin();
    this.#columnValue(v, 0, false);
    return this.#end(start);
  }
}
