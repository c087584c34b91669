/**
 * How timeline entries map onto TableStore rows, and the conversions between the SDK's value
 * objects (`int64-buffer` `Int64LE`, protobufjs `Long`, `[{name, value}]` keys) and exact bigints.
 *
 * Row layout (column names configurable, ASCII only):
 *
 * | column | kind | type | content |
 * |---|---|---|---|
 * | `timeline_id` | PK 1 (partition key) | STRING | the timeline id |
 * | `seq_id` | PK 2 | INTEGER, AUTO_INCREMENT | the seq |
 * | `payload`, `payload_1`, … | attribute | BINARY | the encoded message, in 1 MiB chunks |
 * | `message_id` | attribute, optional | STRING | the caller's message id |
 * | `write_id` | attribute | STRING | a unique id per appended row, to settle ambiguous writes |
 *
 * @packageDocumentation
 */
import { ValidationError } from '../../core/errors.js';
import { utf8Length } from '../../core/backend.js';
import type { AppendRow, StoredRow } from '../../core/backend.js';
import { checkColumnNames } from './column-names.js';
import type { SdkAttributeInput, SdkPrimaryKeyCell, SdkPrimaryKeyInput, SdkRow, TableStoreSdk } from './sdk-types.js';

/** Column names of a timeline table. All must be distinct ASCII identifiers. */
export interface TableStoreColumns {
  /**
   * Partition key (STRING) holding the timeline id.
   * @default 'timeline_id'
   */
  readonly timelineId?: string;
  /**
   * Auto-increment INTEGER primary key holding the seq.
   * @default 'seq_id'
   */
  readonly seq?: string;
  /**
   * Attribute (BINARY) holding the encoded message. Messages over 1 MiB continue in `<name>_1`,
   * `<name>_2`, … (TableStore caps one attribute value at 2 MB).
   * @default 'payload'
   */
  readonly payload?: string;
  /**
   * Attribute (STRING) holding the caller's message id, when given.
   * @default 'message_id'
   */
  readonly messageId?: string;
  /**
   * Attribute (STRING) holding a unique id per appended row, used to find out whether an
   * ambiguous write was applied.
   * @default 'write_id'
   */
  readonly writeId?: string;
}

/** {@link TableStoreColumns} with every name resolved. */
export type ResolvedColumns = Required<TableStoreColumns>;

/** Bytes of payload per attribute cell: half the service's 2 MB value limit, whichever way "MB" is counted. */
export const PAYLOAD_CHUNK_BYTES = 1024 * 1024;

const CHUNK_SUFFIX = /^_[1-9][0-9]*$/;

/**
 * Resolves and validates column names.
 * @throws {ValidationError} for a name that is not an ASCII identifier, or two equal names.
 */
export function resolveColumns(columns: TableStoreColumns | undefined): ResolvedColumns {
  const resolved: ResolvedColumns = {
    timelineId: columns?.timelineId ?? 'timeline_id',
    seq: columns?.seq ?? 'seq_id',
    payload: columns?.payload ?? 'payload',
    messageId: columns?.messageId ?? 'message_id',
    writeId: columns?.writeId ?? 'write_id',
  };
  checkColumnNames(resolved, 'columns', (key, name, parameter) => {
    if (key !== 'payload' && name.startsWith(resolved.payload) && CHUNK_SUFFIX.test(name.slice(resolved.payload.length))) {
      throw new ValidationError(parameter, `\`${parameter}\` (${JSON.stringify(name)}) collides with the payload's continuation columns`);
    }
  });
  return resolved;
}

/**
 * Bytes a row costs in a write request beyond its payload, timeline id and message id: PlainBuffer
 * framing (header, tags, lengths, checksums), column names, the write id and protobuf framing.
 * Honest rather than tight, so that {@link TimelineStore} never builds a request over the limit.
 */
export function rowOverheadBytes(columns: ResolvedColumns): number {
  const plainBufferRow = 4 /* header */ + 1 /* pk tag */ + 1 /* data tag */ + 2; /* row checksum */
  const stringPk = 18 + columns.timelineId.length;
  const integerPk = 22 + columns.seq.length;
  const cell = (name: string): number => 18 + name.length;
  const writeIdValue = 32;
  const protobufRow = 24; // operation type, row_change framing, condition, return_content
  const total = plainBufferRow + stringPk + integerPk + cell(columns.payload) + cell(columns.messageId) + cell(columns.writeId) + writeIdValue + protobufRow;
  return Math.ceil(total / 16) * 16;
}

/**
 * Converts an SDK integer (an `Int64LE`, a protobufjs `Long`, a Buffer of 8 bytes, a bigint, a
 * safe-integer number or a decimal string) to an exact bigint. Never goes through a double.
 * @throws {TypeError} for anything else.
 */
export function toBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return BigInt(value);
    throw new TypeError(`cannot read ${value} as an exact 64-bit integer`);
  }
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  if (value instanceof Uint8Array && value.byteLength === 8) {
    return Buffer.from(value.buffer, value.byteOffset, 8).readBigInt64LE(0);
  }
  if (value !== null && typeof value === 'object') {
    const v = value as { toBuffer?: unknown; low?: unknown; high?: unknown; unsigned?: unknown; toString?: unknown };
    if (typeof v.toBuffer === 'function') {
      // int64-buffer's Int64LE: its buffer is the exact little-endian two's complement value.
      const bytes = (v.toBuffer as () => unknown).call(value);
      if (bytes instanceof Uint8Array && bytes.byteLength === 8) return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigInt64LE(0);
    }
    if (typeof v.low === 'number' && typeof v.high === 'number') {
      // protobufjs / long.js Long: two 32-bit halves.
      const raw = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
      return v.unsigned === true ? raw : BigInt.asIntN(64, raw);
    }
  }
  throw new TypeError(`cannot read ${Object.prototype.toString.call(value)} as an exact 64-bit integer`);
}

/** A bigint as the SDK's INTEGER value (`TableStore.Long.fromString`), exact. */
export function toSdkLong(sdk: TableStoreSdk, value: bigint): unknown {
  return sdk.Long.fromString(value.toString());
}

/** The request-shaped primary key of one row. `seq` may be an SDK placeholder (`INF_MIN`, `PK_AUTO_INCR`, …). */
export function primaryKey(columns: ResolvedColumns, timelineId: string, seq: unknown): SdkPrimaryKeyInput {
  return [{ [columns.timelineId]: timelineId }, { [columns.seq]: seq }];
}

/**
 * Converts a primary key as the SDK returns it (`[{ name, value }]`) to the shape requests expect
 * (`[{ [name]: value }]`). Passed through verbatim it would be encoded as two columns literally
 * named "name" and "value".
 */
export function toRequestPrimaryKey(cells: readonly SdkPrimaryKeyCell[]): SdkPrimaryKeyInput {
  return cells.map((cell) => ({ [cell.name]: cell.value }));
}

/** The seq held by a returned primary key, or undefined when the key has no such column. */
export function seqOfPrimaryKey(cells: readonly SdkPrimaryKeyCell[] | null | undefined, columns: ResolvedColumns): bigint | undefined {
  const cell = cells?.find((c) => c.name === columns.seq);
  return cell === undefined ? undefined : toBigInt(cell.value);
}

/** Attribute columns of an appended row. */
export function attributeColumns(columns: ResolvedColumns, row: AppendRow, writeId: string): SdkAttributeInput {
  const out: Record<string, unknown>[] = [];
  const payload = Buffer.from(row.payload.buffer, row.payload.byteOffset, row.payload.byteLength);
  if (payload.byteLength <= PAYLOAD_CHUNK_BYTES) {
    out.push({ [columns.payload]: payload });
  } else {
    for (let offset = 0, index = 0; offset < payload.byteLength; offset += PAYLOAD_CHUNK_BYTES, index++) {
      const name = index === 0 ? columns.payload : `${columns.payload}_${index}`;
      out.push({ [name]: payload.subarray(offset, offset + PAYLOAD_CHUNK_BYTES) });
    }
  }
  if (row.messageId !== undefined) out.push({ [columns.messageId]: row.messageId });
  out.push({ [columns.writeId]: writeId });
  return out;
}

/** Bytes of an appended row as a request carries them (for the backend's own request splitting). */
export function requestRowBytes(columns: ResolvedColumns, overhead: number, row: AppendRow): number {
  const chunks = Math.max(1, Math.ceil(row.payload.byteLength / PAYLOAD_CHUNK_BYTES));
  return overhead + (chunks - 1) * (18 + columns.payload.length + 8) + row.payload.byteLength + utf8Length(row.timelineId) + (row.messageId === undefined ? 0 : utf8Length(row.messageId));
}

/** A row read back, with the bookkeeping columns the backend needs besides the entry. */
export interface ParsedRow {
  readonly row: StoredRow;
  readonly writeId: string | undefined;
  /** Cell version (ms since the epoch) of the row's write, when the service returned one. */
  readonly writtenAtMs: number | undefined;
}

function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  return undefined;
}

/**
 * Reads an SDK row. Returns undefined for an absent row (no primary key) and for a row without
 * payload (all its cells expired, or a row this library did not write).
 */
export function parseRow(sdkRow: SdkRow | undefined, columns: ResolvedColumns, options: { requirePayload?: boolean } = {}): ParsedRow | undefined {
  const pk = sdkRow?.primaryKey;
  if (pk === undefined || pk === null || pk.length === 0) return undefined;
  const timelineCell = pk.find((c) => c.name === columns.timelineId);
  const seq = seqOfPrimaryKey(pk, columns);
  if (timelineCell === undefined || typeof timelineCell.value !== 'string' || seq === undefined) return undefined;
  const chunks: Uint8Array[] = [];
  let messageId: string | undefined;
  let writeId: string | undefined;
  let writtenAtMs: number | undefined;
  let hasPayload = false;
  const prefix = `${columns.payload}_`;
  for (const cell of sdkRow?.attributes ?? []) {
    const name = cell.columnName;
    if (name === columns.payload) {
      chunks[0] = toBytes(cell.columnValue) ?? new Uint8Array(0);
      hasPayload = true;
    } else if (name.startsWith(prefix) && CHUNK_SUFFIX.test(name.slice(columns.payload.length))) {
      chunks[Number(name.slice(prefix.length))] = toBytes(cell.columnValue) ?? new Uint8Array(0);
    } else if (name === columns.messageId && typeof cell.columnValue === 'string') {
      messageId = cell.columnValue;
    } else if (name === columns.writeId && typeof cell.columnValue === 'string') {
      writeId = cell.columnValue;
    } else {
      continue;
    }
    if (writtenAtMs === undefined && cell.timestamp !== undefined && cell.timestamp !== null) {
      try {
        writtenAtMs = Number(toBigInt(cell.timestamp));
      } catch {
        // A timestamp the SDK did not give as an integer is only an optimisation hint: ignore it.
      }
    }
  }
  if (!hasPayload && options.requirePayload !== false) return undefined;
  // The SDK copies every value out of the response, so its buffers can be handed on as they are.
  const payload: Uint8Array =
    chunks.length <= 1 ? (chunks[0] ?? new Uint8Array(0)) : Buffer.concat(Array.from(chunks, (c) => c ?? new Uint8Array(0)));
  const row: StoredRow = messageId === undefined ? { timelineId: timelineCell.value, seq, payload } : { timelineId: timelineCell.value, seq, payload, messageId };
  return { row, writeId, writtenAtMs };
}
