/**
 * Response bodies decoded into the results the official Node SDK's `decoder.js` returns, field
 * for field: the same property names, `consumed` as `{ capacityUnit: { read, write } }`, rows as
 * {@link SdkRowReader} gives them, `nextStartPrimaryKey` as a primary key or null, BatchWriteRow's
 * per-row `{ isOk, errorCode, errorMessage, tableName, capacityUnit, primaryKey, attributes }`.
 * Where protobufjs answers a missing optional field from its prototype default, the default is
 * inherited here too (one prototype of defaults per message schema; not frozen, because assigning
 * over an inherited read-only property throws, and the SDK's callers assign to results), so that reading any
 * field, and `Object.hasOwn`, give what the SDK's object gives.
 *
 * @packageDocumentation
 */
import * as M from './messages.js';
import { decodeMessage, type FieldSpec, type MessageSchema } from './protobuf.js';
import type { SdkOperation } from './sdk-requests.js';
import type { SdkRowReader, SdkRowShape } from './sdk-rows.js';

type Obj = Record<string, any>;

/** protobufjs' `Long` for int64 fields, as plain data (`low`, `high`, `unsigned`). */
export interface ProtoLong {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

function protoLong(v: bigint, unsigned: boolean): ProtoLong {
  const u = BigInt.asUintN(64, v);
  return { low: Number(BigInt.asIntN(32, u)), high: Number(BigInt.asIntN(32, u >> 32n)), unsigned };
}

const EMPTY = Buffer.alloc(0);
// proto2 enum fields default to their first value, which is not 0 for these.
const ENUM_DEFAULTS: Readonly<Record<string, number>> = { type: 1, option: 1, bloom_filter_type: 1, table_status: 1 };

function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function defaultOf(name: string, spec: FieldSpec): unknown {
  const t = spec.type;
  if (typeof t === 'object') return null;
  switch (t) {
    case 'string':
      return '';
    case 'bytes':
      return EMPTY;
    case 'bool':
      return false;
    case 'int64':
    case 'sint64':
      return protoLong(0n, false);
    case 'uint64':
      return protoLong(0n, true);
    case 'double':
      return 0;
    default:
      return ENUM_DEFAULTS[name] ?? 0;
  }
}

function convert(spec: FieldSpec, v: unknown): unknown {
  const t = spec.type;
  if (typeof t === 'object') return sdkMessage(t, v as Obj);
  if (t === 'int64' || t === 'sint64' || t === 'uint64') return protoLong(v as bigint, t === 'uint64');
  return v;
}

// protobufjs keeps a missing optional field's default on the message class's prototype, not on the
// message: `Object.hasOwn(column, 'option')` is false for a key column without an option, and the
// backend's table checks rely on that. One prototype of defaults per schema gives the same view.
const DEFAULTS = new WeakMap<MessageSchema, Obj>();

function defaultsOf(schema: MessageSchema): Obj {
  let proto = DEFAULTS.get(schema);
  if (proto === undefined) {
    proto = {};
    for (const name of Object.keys(schema)) {
      const spec = schema[name] as FieldSpec;
      if (!spec.repeated) proto[camel(name)] = defaultOf(name, spec);
    }
    DEFAULTS.set(schema, proto);
  }
  return proto;
}

/** A decoded message as protobufjs presents it: camelCase names, present fields own, defaults inherited. */
function sdkMessage(schema: MessageSchema, msg: Obj): Obj {
  const out: Obj = Object.create(defaultsOf(schema)) as Obj;
  for (const name of Object.keys(schema)) {
    const spec = schema[name] as FieldSpec;
    const v = msg[name];
    // Repeated fields are own properties (protobufjs gives every message its own array).
    if (spec.repeated) out[camel(name)] = (v as unknown[]).map((x) => convert(spec, x));
    else if (v !== undefined) out[camel(name)] = convert(spec, v);
  }
  return out;
}

function capacityUnit(consumed: Obj | undefined): Obj | null {
  if (consumed === undefined) return null;
  const cu = consumed.capacity_unit as Obj;
  return { read: cu.read ?? 0, write: cu.write ?? 0 };
}

function consumedOf(consumed: Obj | undefined): Obj | null {
  const cu = capacityUnit(consumed);
  return cu === null ? null : { capacityUnit: cu };
}

function rowOrEmpty(bytes: Buffer | undefined, rows: SdkRowReader): SdkRowShape | Obj {
  return bytes !== undefined && bytes.length > 0 ? rows.row(bytes) : {};
}

function rowItem(r: Obj, tableName: string, rows: SdkRowReader): Obj {
  let primaryKey: unknown = null;
  let attributes: unknown = null;
  let errorCode: unknown = null;
  let errorMessage: unknown = null;
  if (r.is_ok) {
    const bytes = r.row as Buffer | undefined;
    if (bytes !== undefined && bytes.length !== 0) {
      const row = rows.row(bytes);
      primaryKey = row.primaryKey;
      attributes = row.attributes;
    }
  } else {
    // The SDK reads `error.code` unguarded: a failed row without an error fails there too.
    const error = r.error as Obj | undefined;
    if (error === undefined) throw new TypeError("Cannot read properties of null (reading 'code')");
    errorCode = error.code;
    errorMessage = error.message ?? '';
  }
  const cu = capacityUnit(r.consumed as Obj | undefined);
  return { isOk: r.is_ok, errorCode, errorMessage, tableName, capacityUnit: cu === null ? '' : cu, primaryKey, attributes };
}

/** Decodes a success body of `op` as the SDK's decoder does. */
export function decodeSdkResponse(op: SdkOperation, body: Buffer, rows: SdkRowReader): any {
  switch (op) {
    case 'getRow':
    case 'putRow':
    case 'updateRow':
    case 'deleteRow': {
      const m = decodeMessage(M.WriteRowResponse, body, op) as Obj;
      return { consumed: consumedOf(m.consumed), row: rowOrEmpty(m.row, rows) };
    }
    case 'getRange': {
      const m = decodeMessage(M.GetRangeResponse, body, op) as Obj;
      const rowBytes = m.rows as Buffer;
      const next = m.next_start_primary_key as Buffer | undefined;
      return {
        consumed: consumedOf(m.consumed),
        rows: rowBytes.length > 0 ? rows.rows(rowBytes) : [],
        nextStartPrimaryKey: next !== undefined && next.length > 0 ? rows.row(next).primaryKey : null,
        compressType: m.compress_type ?? 0,
        dataBlockType: m.data_block_type ?? 0,
        nextToken: m.next_token ?? EMPTY,
      };
    }
    case 'batchWriteRow': {
      const m = decodeMessage(M.BatchWriteRowResponse, body, op) as Obj;
      const tables: Obj[] = [];
      for (const t of m.tables as Obj[]) for (const r of t.rows as Obj[]) tables.push(rowItem(r, t.table_name, rows));
      return { tables };
    }
    case 'batchGetRow': {
      const m = decodeMessage(M.BatchGetRowResponse, body, op) as Obj;
      return { tables: (m.tables as Obj[]).map((t) => (t.rows as Obj[]).map((r) => rowItem(r, t.table_name, rows))) };
    }
    case 'describeTable': {
      const out = sdkMessage(M.DescribeTableResponse, decodeMessage(M.DescribeTableResponse, body, op) as Obj);
      // The SDK renames the index sync phase: ISP_INCR (2) to 'INCR', anything else to 'FULL'.
      for (const meta of out.indexMetas as Obj[]) meta.indexSyncPhase = meta.indexSyncPhase === 2 ? 'INCR' : 'FULL';
      return out;
    }
    case 'updateTable':
      return sdkMessage(M.UpdateTableResponse, decodeMessage(M.UpdateTableResponse, body, op) as Obj);
    case 'listTable':
      return sdkMessage(M.ListTableResponse, decodeMessage(M.ListTableResponse, body, op) as Obj);
    case 'createTable':
    case 'deleteTable':
      decodeMessage(M.CreateTableResponse, body, op);
      return {};
    default:
      throw new Error(`The codec does not decode '${String(op)}' responses; use the SDK client for it`);
  }
}

/** The `Error { code, message }` body of a failed request (`message` is '' when absent, as protobufjs gives it). */
export function decodeError(body: Buffer): { code: string; message: string } {
  const m = decodeMessage(M.ErrorMsg, body, 'Error');
  return { code: m.code, message: m.message ?? '' };
}
