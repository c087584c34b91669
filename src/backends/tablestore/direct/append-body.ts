/**
 * The body of an append request (PutRow for one row, BatchWriteRow for several), encoded straight
 * from the backend's own rows: no SDK params (`[{ name: value }]` cells, `Long`s, `Condition`
 * objects) are built and translated per row. The bytes are those the SDK sends for the params
 * the SDK transport builds (`appendParams`, timeline-requests.ts), quirks included, so the body's MD5 and
 * signature are the same; test/codec/direct-bodies.test.ts checks it against the SDK's encoder.
 *
 * Every length is known before anything is written (string lengths are measured once), so the
 * body is one exactly sized buffer, filled front to back, with no length prefix moved afterwards.
 * A payload repeated across the rows of one request (one message fanned out to many inboxes) is
 * encoded and checksummed once and copied for the other rows.
 *
 * @packageDocumentation
 */
import { crc8Byte, crc8Range, crc8Uint32 } from '../../../codec/checksum.js';
import { utf8Length } from '../../../core/utf8.js';
import { HEADER, Tag, VariantType } from '../../../codec/plain-buffer-format.js';
import { putVarint, varintSize } from '../../../codec/varint.js';
import { PAYLOAD_CHUNK_BYTES, type ResolvedColumns } from '../row-layout.js';
import type { AppendEntry } from '../timeline-requests.js';
import { columnBytes, putCellName, type NameBytes, type TimelineColumnBytes } from './column-bytes.js';

/** A row to append and its write id (an append slot has both). */
export type DirectAppendRow = AppendEntry;

// Both append requests end every row the same way: `condition { row_existence: IGNORE }` (field 3)
// and `return_content { return_type: RT_PK }` (field 4), as the SDK encodes them.
const ROW_TAIL = [0x1a, 0x02, 0x08, 0x00, 0x22, 0x02, 0x08, 0x01] as const;
// BatchWriteRow's `type: PUT` (field 1).
const TYPE_PUT = [0x08, 0x01] as const;

function putU32(out: Buffer, at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/** Writes `s` (of UTF-8 length `n`) at `at`: a loop for ASCII, which costs less than a native call for short ids. */
function putString(out: Buffer, at: number, s: string, n: number): void {
  if (n === s.length) for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
  else out.write(s, at, n, 'utf8');
}

/** `TAG_CELL`, the name, `TAG_CELL_VALUE`, the total length, the type and the data length; returns where the data goes. */
function cellHead(out: Buffer, at: number, name: NameBytes, type: number, n: number): number {
  const p = putCellName(out, at, name);
  out[p] = Tag.CELL_VALUE;
  putU32(out, p + 1, 5 + n);
  out[p + 5] = type;
  putU32(out, p + 6, n);
  return p + 10;
}

// The checksum of the cell just written, beside the position returned (no object per cell).
let cellCrc = 0;

/** The cell checksum over the name, the type, the length and the `n` data bytes at `dataAt`; returns the end. */
function cellTail(out: Buffer, dataAt: number, name: NameBytes, type: number, n: number): number {
  const crc = crc8Range(crc8Uint32(crc8Byte(name.crc, type), n), out, dataAt, dataAt + n);
  const at = dataAt + n;
  out[at] = Tag.CELL_CHECKSUM;
  out[at + 1] = crc;
  cellCrc = crc;
  return at + 2;
}

function stringCell(out: Buffer, at: number, name: NameBytes, s: string, n: number): number {
  const dataAt = cellHead(out, at, name, VariantType.STRING, n);
  putString(out, dataAt, s, n);
  return cellTail(out, dataAt, name, VariantType.STRING, n);
}

/** The auto-increment placeholder of the seq column: a value of type AUTO_INCREMENT and no data. */
function autoIncrementCell(out: Buffer, at: number, name: NameBytes): number {
  const p = putCellName(out, at, name);
  out[p] = Tag.CELL_VALUE;
  putU32(out, p + 1, 1);
  out[p + 5] = VariantType.AUTO_INCREMENT;
  cellCrc = crc8Byte(name.crc, VariantType.AUTO_INCREMENT);
  out[p + 6] = Tag.CELL_CHECKSUM;
  out[p + 7] = cellCrc;
  return p + 8;
}

/** The payload's cells as encoded for an earlier row of the same request. */
interface EncodedPayload {
  readonly start: number;
  readonly end: number;
  readonly crcs: readonly number[];
}

/** Sizes of one row: its ids' UTF-8 lengths (-1: no message id) and its PlainBuffer row. */
interface RowSizes {
  readonly idLength: Int32Array;
  readonly messageIdLength: Int32Array;
  readonly writeIdLength: Int32Array;
  readonly rowLength: Int32Array;
}

/** The payload's cells: one up to 1 MiB, else one per 1 MiB chunk (`payload`, `payload_1`, …). */
function payloadCellsLength(names: TimelineColumnBytes, n: number): number {
  if (n <= PAYLOAD_CHUNK_BYTES) return 18 + names.payload.bytes.length + n;
  let total = 0;
  for (let offset = 0, index = 0; offset < n; offset += PAYLOAD_CHUNK_BYTES, index++) {
    total += 18 + names.chunk(index).bytes.length + Math.min(PAYLOAD_CHUNK_BYTES, n - offset);
  }
  return total;
}

function measure(names: TimelineColumnBytes, rows: readonly DirectAppendRow[]): RowSizes {
  const count = rows.length;
  const sizes: RowSizes = { idLength: new Int32Array(count), messageIdLength: new Int32Array(count), writeIdLength: new Int32Array(count), rowLength: new Int32Array(count) };
  // Header, ROW_PK, the seq placeholder's cell, ROW_DATA, the row checksum, and the spare byte
  // the SDK sizes for the auto-increment placeholder and sends as a trailing zero.
  const fixed = 4 + 1 + 18 + names.timelineId.bytes.length + 8 + names.seq.bytes.length + 6 + 1 + 2 + 1;
  let lastPayload: Uint8Array | undefined;
  let lastPayloadCells = 0;
  for (let i = 0; i < count; i++) {
    const { row, writeId } = rows[i]!;
    const id = utf8Length(row.timelineId);
    const messageId = row.messageId === undefined ? -1 : utf8Length(row.messageId);
    const write = utf8Length(writeId);
    if (row.payload !== lastPayload) {
      lastPayload = row.payload;
      lastPayloadCells = payloadCellsLength(names, row.payload.byteLength);
    }
    let length = fixed + id + lastPayloadCells + 18 + names.writeId.bytes.length + write;
    if (messageId >= 0) length += 18 + names.messageId.bytes.length + messageId;
    sizes.idLength[i] = id;
    sizes.messageIdLength[i] = messageId;
    sizes.writeIdLength[i] = write;
    sizes.rowLength[i] = length;
  }
  return sizes;
}

/** Writes row `i`'s PlainBuffer row (the `row_change` bytes) at `at`; returns the end. */
function putRowChange(out: Buffer, at: number, names: TimelineColumnBytes, entry: DirectAppendRow, sizes: RowSizes, i: number, seen: Map<Uint8Array, EncodedPayload>): number {
  const { row, writeId } = entry;
  let p = at;
  putU32(out, p, HEADER);
  p += 4;
  out[p++] = Tag.ROW_PK;
  p = stringCell(out, p, names.timelineId, row.timelineId, sizes.idLength[i]!);
  let rowCrc = crc8Byte(0, cellCrc);
  p = autoIncrementCell(out, p, names.seq);
  rowCrc = crc8Byte(rowCrc, cellCrc);
  out[p++] = Tag.ROW_DATA;
  const payload = row.payload;
  const earlier = seen.get(payload);
  if (earlier !== undefined) {
    out.copyWithin(p, earlier.start, earlier.end);
    p += earlier.end - earlier.start;
    for (const crc of earlier.crcs) rowCrc = crc8Byte(rowCrc, crc);
  } else {
    const start = p;
    const crcs: number[] = [];
    const n = payload.byteLength;
    for (let offset = 0, index = 0; offset === 0 || offset < n; offset += PAYLOAD_CHUNK_BYTES, index++) {
      const length = Math.min(PAYLOAD_CHUNK_BYTES, n - offset);
      const name = names.chunk(index);
      const dataAt = cellHead(out, p, name, VariantType.BLOB, length);
      out.set(length === n ? payload : payload.subarray(offset, offset + length), dataAt);
      p = cellTail(out, dataAt, name, VariantType.BLOB, length);
      crcs.push(cellCrc);
      rowCrc = crc8Byte(rowCrc, cellCrc);
    }
    seen.set(payload, { start, end: p, crcs });
  }
  const messageIdLength = sizes.messageIdLength[i]!;
  if (messageIdLength >= 0) {
    p = stringCell(out, p, names.messageId, row.messageId!, messageIdLength);
    rowCrc = crc8Byte(rowCrc, cellCrc);
  }
  p = stringCell(out, p, names.writeId, writeId, sizes.writeIdLength[i]!);
  rowCrc = crc8Byte(rowCrc, cellCrc);
  out[p++] = Tag.ROW_CHECKSUM;
  out[p++] = crc8Byte(rowCrc, 0);
  out[p++] = 0;
  return p;
}

function putBytes(out: Buffer, at: number, bytes: readonly number[]): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!;
  return at + bytes.length;
}

/**
 * The PutRow body of one appended row: the timeline id and the auto-increment placeholder as its
 * key, the payload (in 1 MiB chunks), the message id when given and the write id as attributes,
 * condition IGNORE, the primary key returned.
 */
export function encodePutRowBody(table: string, columns: ResolvedColumns, entry: DirectAppendRow): Buffer {
  const names = columnBytes(columns);
  const sizes = measure(names, [entry]);
  const rowLength = sizes.rowLength[0]!;
  const tableLength = utf8Length(table);
  const out = Buffer.allocUnsafe(1 + varintSize(tableLength) + tableLength + 1 + varintSize(rowLength) + rowLength + ROW_TAIL.length);
  out[0] = 0x0a; // table_name
  let p = putVarint(out, 1, tableLength);
  putString(out, p, table, tableLength);
  p += tableLength;
  out[p++] = 0x12; // row
  p = putVarint(out, p, rowLength);
  p = putRowChange(out, p, names, entry, sizes, 0, new Map());
  putBytes(out, p, ROW_TAIL);
  return out;
}

/** The BatchWriteRow body of several appended rows into one table, each a PUT as {@link encodePutRowBody} describes. */
export function encodeBatchWriteBody(table: string, columns: ResolvedColumns, entries: readonly DirectAppendRow[]): Buffer {
  const names = columnBytes(columns);
  const sizes = measure(names, entries);
  const tableLength = utf8Length(table);
  let tableMessage = 1 + varintSize(tableLength) + tableLength;
  for (let i = 0; i < entries.length; i++) {
    const rowLength = sizes.rowLength[i]!;
    const rowMessage = TYPE_PUT.length + 1 + varintSize(rowLength) + rowLength + ROW_TAIL.length;
    tableMessage += 1 + varintSize(rowMessage) + rowMessage;
  }
  const out = Buffer.allocUnsafe(1 + varintSize(tableMessage) + tableMessage);
  out[0] = 0x0a; // tables
  let p = putVarint(out, 1, tableMessage);
  out[p++] = 0x0a; // table_name
  p = putVarint(out, p, tableLength);
  putString(out, p, table, tableLength);
  p += tableLength;
  const seen = new Map<Uint8Array, EncodedPayload>();
  for (let i = 0; i < entries.length; i++) {
    const rowLength = sizes.rowLength[i]!;
    out[p++] = 0x12; // rows
    p = putVarint(out, p, TYPE_PUT.length + 1 + varintSize(rowLength) + rowLength + ROW_TAIL.length);
    p = putBytes(out, p, TYPE_PUT);
    out[p++] = 0x12; // row_change
    p = putVarint(out, p, rowLength);
    p = putRowChange(out, p, names, entries[i]!, sizes, i, seen);
    p = putBytes(out, p, ROW_TAIL);
  }
  return out;
}
