/**
 * Helpers shared by the API handlers: protobuf and PlainBuffer decoding that turns malformed input
 * into `400 OTSParameterInvalid`, row size limits, capacity units, and primary keys as cells.
 *
 * @packageDocumentation
 */
import { invalid, OtsError } from './errors.js';
import { LIMITS } from './limits.js';
import type * as M from '../codec/messages.js';
import { PlainBufferError, type PlainRow, type PlainValue } from '../codec/plain-buffer-format.js';
import { decodeRow } from '../codec/plain-buffer-reader.js';
import { decodeMessage, encodeMessage, ProtobufDecodeError, type Message, type MessageInput, type MessageSchema } from '../codec/protobuf.js';

/** Table and column names the service accepts. */
export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
/** Largest signed 64-bit integer. */
export const INT64_MAX = (1n << 63n) - 1n;
/** Smallest signed 64-bit integer. */
export const INT64_MIN = -(1n << 63n);

/** The service's name of each value type, as its error messages spell it. */
export const VT_NAME: Record<PlainValue['type'], string> = {
  INTEGER: 'VT_INTEGER',
  DOUBLE: 'VT_DOUBLE',
  BOOLEAN: 'VT_BOOLEAN',
  STRING: 'VT_STRING',
  BINARY: 'VT_BLOB',
  NULL: 'VT_NULL',
  INF_MIN: 'VT_INF_MIN',
  INF_MAX: 'VT_INF_MAX',
  AUTO_INCREMENT: 'VT_AUTO_INCREMENT',
};

/** Decodes a request, turning malformed protobuf into `400 OTSParameterInvalid`. */
export function decode<S extends MessageSchema>(schema: S, body: Buffer, name: string): Message<S> {
  try {
    return decodeMessage(schema, body, name);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw invalid(`Failed to parse the ${name}: ${e.message}.`);
    throw e;
  }
}

/** Encodes a response. */
export function encode<S extends MessageSchema>(schema: S, msg: MessageInput<S>, name: string): Buffer {
  return encodeMessage(schema, msg, name);
}

/** Decodes a PlainBuffer row, turning malformed input into `400 OTSParameterInvalid`. */
export function parseRow(buf: Buffer, what: string): PlainRow {
  try {
    return decodeRow(buf);
  } catch (e) {
    if (e instanceof PlainBufferError) throw invalid(`Invalid PlainBuffer in ${what}: ${e.message}.`);
    throw e;
  }
}

function byteLength(v: PlainValue): number {
  if (v.type === 'STRING') return Buffer.byteLength(v.value, 'utf8');
  if (v.type === 'BINARY') return v.value.length;
  return 8;
}

/** Approximate data size of a request row, for capacity units. */
export function rowDataSize(row: PlainRow): number {
  let n = 0;
  for (const c of row.primaryKey) n += c.name.length + (c.value ? byteLength(c.value) : 0) + 8;
  for (const c of row.attributes) n += c.name.length + (c.value ? byteLength(c.value) : 0) + 8;
  return n;
}

/**
 * `true` when a string or binary value is longer than `limit` bytes. A string of at most
 * `limit / 3` characters cannot be (UTF-8 takes at most 3 bytes per UTF-16 unit), so the usual
 * short values skip the native byte count.
 */
function overLimit(v: PlainValue, limit: number): boolean {
  if (v.type === 'STRING') return v.value.length * 3 > limit && Buffer.byteLength(v.value, 'utf8') > limit;
  return v.type === 'BINARY' && v.value.length > limit;
}

/** Limits that make BatchWriteRow fail as a whole, checked before any row is applied. */
export function checkRowLimits(row: PlainRow): void {
  if (row.attributes.length > LIMITS.columnsPerRow) {
    throw new OtsError('OTSOutOfColumnCountLimit', `The number of columns from the request exceeds the limit, limit count: ${LIMITS.columnsPerRow}, column count: ${row.attributes.length}.`);
  }
  for (const c of row.primaryKey) {
    if (c.value && overLimit(c.value, LIMITS.primaryKeyValueBytes)) {
      throw invalid(`The length of primary key column: '${c.name}' exceeds the MaxLength:${LIMITS.primaryKeyValueBytes} with CurrentLength:${byteLength(c.value)}.`);
    }
  }
  for (const c of row.attributes) {
    if (c.value && overLimit(c.value, LIMITS.attributeValueBytes)) {
      throw invalid(`The length of attribute column: '${c.name}' exceeds the MaxLength:${LIMITS.attributeValueBytes} with CurrentLength:${byteLength(c.value)}.`);
    }
  }
}

const capacities = new Map<number, MessageInput<typeof M.ConsumedCapacity>>();

/** A `ConsumedCapacity` message (shared, frozen instances: one per value, not one per row). */
export function capacity(read: number, write: number): MessageInput<typeof M.ConsumedCapacity> {
  if (read > 1023 || write > 1023) return { capacity_unit: { read, write } };
  const key = read * 1024 + write;
  let c = capacities.get(key);
  if (!c) capacities.set(key, (c = Object.freeze({ capacity_unit: Object.freeze({ read, write }) })));
  return c;
}

/** Capacity units for a number of bytes: `ceil(bytes / 4 KB)`, at least 1. */
export function cu(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096));
}
