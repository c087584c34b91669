/**
 * Request bodies from the params of the SDK's client methods, byte-identical to what the SDK's
 * `encoder.js` + protobufjs send: the same fields set (proto2: an optional field is written only
 * when the SDK sets it, a required one always), in field-number order, with the SDK's defaults
 * (`maxVersions` 1, the index modes 0, GetRange's direction 0 unless `'BACKWARD'`, …).
 *
 * @packageDocumentation
 */
import * as M from './messages.js';
import { encodeMessage, type MessageInput } from './protobuf.js';
import { conditionInput, encodeColumnFilter } from './sdk-conditions.js';
import type { SdkPlainBufferEncoder } from './sdk-plain-buffer.js';

/** The SDK client methods the codec encodes and decodes (`req.operation` in the SDK). */
export type SdkOperation =
  | 'createTable'
  | 'updateTable'
  | 'describeTable'
  | 'deleteTable'
  | 'listTable'
  | 'putRow'
  | 'updateRow'
  | 'deleteRow'
  | 'getRow'
  | 'getRange'
  | 'batchWriteRow'
  | 'batchGetRow';

type Params = Record<string, any>;

const PK_TYPE: Readonly<Record<string, number>> = { INTEGER: 1, STRING: 2, BINARY: 3 };
const PK_OPTION: Readonly<Record<string, number>> = { AUTO_INCREMENT: 1 };
const WRITE_TYPE: Readonly<Record<string, number>> = { PUT: 1, UPDATE: 2, DELETE: 3 };

function own(map: Readonly<Record<string, number>>, key: unknown): number | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

function isArray(v: unknown): v is unknown[] {
  return Object.prototype.toString.call(v) === '[object Array]';
}

/** The SDK's `arrayEach`: own enumerable keys in `for…in` order. */
function eachOwn<T>(list: unknown, fn: (item: any) => T): T[] {
  const out: T[] = [];
  const l = list as Record<string, unknown>;
  for (const k in l) if (Object.prototype.hasOwnProperty.call(l, k)) out.push(fn(l[k]));
  return out;
}

function timeRange(t: Params): MessageInput<typeof M.GetRowRequest>['time_range'] {
  return { start_time: int64(t.startTime), end_time: int64(t.endTime), specific_time: int64(t.specificTime) };
}

/** protobufjs `int64` of a number (truncated, two's complement), a decimal string or a bigint. */
function int64(v: unknown): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  throw new TypeError(`Expected an int64 as a number, string or bigint, got ${typeof v}`);
}

function returnContent(rc: Params | undefined, withColumns: 'always' | 'ifSet' | 'never'): MessageInput<typeof M.PutRowRequest>['return_content'] {
  if (!rc || !rc.returnType) return undefined;
  const out: { return_type: number; return_column_names?: string[] } = { return_type: rc.returnType };
  if (withColumns === 'always' || (withColumns === 'ifSet' && rc.returnColumns)) out.return_column_names = rc.returnColumns;
  return out;
}

function readOptions(p: Params, rows: SdkPlainBufferEncoder): Params {
  const out: Params = { max_versions: p.maxVersions ? p.maxVersions : 1 };
  if (p.columnFilter) out.filter = encodeColumnFilter(p.columnFilter, rows);
  if (p.timeRange) out.time_range = timeRange(p.timeRange);
  if (p.startColumn) out.start_column = p.startColumn;
  if (p.endColumn) out.end_column = p.endColumn;
  if (p.columnsToGet) out.columns_to_get = p.columnsToGet;
  return out;
}

function tableOptions(o: Params, withDeviation: 'ifSet' | 'always'): Params {
  const out: Params = { time_to_live: o.timeToLive, max_versions: o.maxVersions, allow_update: o.allowUpdate };
  if (withDeviation === 'always' || o.maxTimeDeviation) out.deviation_cell_version_in_sec = int64(o.maxTimeDeviation);
  return out;
}

function streamSpec(s: Params | undefined): Params | undefined {
  return s ? { enable_stream: !!s.enableStream, expiration_time: s.expirationTime } : undefined;
}

function createTable(p: Params): Buffer {
  if (!p.reservedThroughput || !p.tableOptions) throw new Error('reservedThroughput and tableOptions are required');
  const meta = p.tableMeta as Params;
  const tableMeta: Params = {
    table_name: meta.tableName,
    primary_key: eachOwn(meta.primaryKey, (pk: Params) => ({
      name: pk.name,
      type: own(PK_TYPE, pk.type) ?? pk.type ?? 0,
      option: own(PK_OPTION, pk.option) ?? pk.option,
    })),
  };
  if (isArray(meta.definedColumn)) tableMeta.defined_column = (meta.definedColumn as Params[]).map((c) => ({ name: c.name, type: c.type ?? 0 }));
  const msg: Params = {
    table_meta: tableMeta,
    reserved_throughput: { capacity_unit: capacityUnit(p.reservedThroughput.capacityUnit) },
    table_options: tableOptions(p.tableOptions, 'ifSet'),
    stream_spec: streamSpec(p.streamSpecification),
  };
  if (isArray(p.indexMetas)) {
    msg.index_metas = eachOwn(p.indexMetas, (m: Params) => ({
      name: m.name,
      primary_key: m.primaryKey,
      defined_column: m.definedColumn,
      index_update_mode: m.indexUpdateMode || 0,
      index_type: m.indexType || 0,
    }));
  }
  return encodeMessage(M.CreateTableRequest, msg);
}

function capacityUnit(cu: Params | undefined): Params {
  if (cu === undefined || cu === null) throw new TypeError('Expected `reservedThroughput.capacityUnit` ({ read, write })');
  return { read: cu.read, write: cu.write };
}

function updateTable(p: Params): Buffer {
  if (!p.tableOptions) throw new TypeError('Expected `tableOptions` (the SDK reads it unconditionally)');
  return encodeMessage(M.UpdateTableRequest, {
    table_name: p.tableName,
    table_options: tableOptions(p.tableOptions, 'always'),
    reserved_throughput: p.reservedThroughput ? { capacity_unit: capacityUnit(p.reservedThroughput.capacityUnit) } : undefined,
    stream_spec: streamSpec(p.streamSpecification),
  } as Params);
}

function getRow(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  const msg = readOptions(p, rows);
  msg.table_name = p.tableName;
  msg.primary_key = rows.primaryKey(p.primaryKey);
  if (p.transactionId) msg.transaction_id = p.transactionId;
  return encodeMessage(M.GetRowRequest, msg);
}

function getRange(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  const start = rows.primaryKey(p.inclusiveStartPrimaryKey);
  const end = rows.primaryKey(p.exclusiveEndPrimaryKey);
  const msg = readOptions(p, rows);
  msg.table_name = p.tableName;
  msg.inclusive_start_primary_key = start;
  msg.exclusive_end_primary_key = end;
  // The SDK looks the direction up in protobufjs' enum object, whose numeric keys map back to names:
  // anything but the name 'BACKWARD' ends up written as 0.
  msg.direction = p.direction === 'BACKWARD' ? M.Direction.BACKWARD : M.Direction.FORWARD;
  if (p.limit) msg.limit = p.limit;
  if (p.transactionId) msg.transaction_id = p.transactionId;
  return encodeMessage(M.GetRangeRequest, msg);
}

function putRow(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  const row = rows.putRow(p.primaryKey, p.attributeColumns);
  return encodeMessage(M.PutRowRequest, {
    table_name: p.tableName,
    row,
    condition: conditionInput(p.condition, rows),
    return_content: returnContent(p.returnContent, 'never'),
    transaction_id: p.transactionId ? p.transactionId : undefined,
  });
}

function updateRow(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  const rowChange = rows.updateRow(p.primaryKey, p.updateOfAttributeColumns);
  return encodeMessage(M.UpdateRowRequest, {
    table_name: p.tableName,
    row_change: rowChange,
    condition: conditionInput(p.condition, rows),
    return_content: returnContent(p.returnContent, 'always'),
    transaction_id: p.transactionId ? p.transactionId : undefined,
  });
}

function deleteRow(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  const pk = rows.deleteRow(p.primaryKey);
  return encodeMessage(M.DeleteRowRequest, {
    table_name: p.tableName,
    primary_key: pk,
    condition: conditionInput(p.condition, rows),
    return_content: returnContent(p.returnContent, 'never'),
    transaction_id: p.transactionId ? p.transactionId : undefined,
  });
}

function batchWriteRow(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  if (p.tables === undefined || p.tables === null || p.tables.length <= 0) throw new Error('params.tables is not correct');
  // Rows of one request usually share one condition object: encode it once.
  const conditions = new Map<unknown, ReturnType<typeof conditionInput>>();
  const tables: Params[] = [];
  for (let i = 0; i < p.tables.length; i++) {
    const t = p.tables[i] as Params;
    const out: Params[] = [];
    for (const k in t.rows) {
      const r = t.rows[k] as Params;
      const kind = r.type;
      let rowChange: Buffer;
      if (kind === 'PUT') rowChange = rows.putRow(r.primaryKey, r.attributeColumns);
      else if (kind === 'UPDATE') rowChange = rows.updateRow(r.primaryKey, r.attributeColumns);
      else if (kind === 'DELETE') rowChange = rows.deleteRow(r.primaryKey);
      else throw new Error('batchwriterow type is error:' + kind);
      let condition: ReturnType<typeof conditionInput> | undefined;
      if (r.condition) {
        condition = conditions.get(r.condition);
        if (condition === undefined) {
          condition = conditionInput(r.condition, rows);
          conditions.set(r.condition, condition);
        }
      } else {
        throw new TypeError('Expected every BatchWriteRow row to have a `condition` (the SDK fails without one)');
      }
      out.push({ type: own(WRITE_TYPE, kind), row_change: rowChange, condition, return_content: returnContent(r.returnContent, 'ifSet') });
    }
    tables.push({ table_name: t.tableName, rows: out });
  }
  return encodeMessage(M.BatchWriteRowRequest, { tables, transaction_id: p.transactionId ? p.transactionId : undefined } as Params);
}

function batchGetRow(p: Params, rows: SdkPlainBufferEncoder): Buffer {
  if (p.tables === undefined || p.tables === null) throw new Error('params.tables is not correct');
  const tables: Params[] = [];
  for (let i = 0; i < p.tables.length; i++) {
    const t = p.tables[i] as Params;
    const keys: Buffer[] = [];
    for (const k in t.primaryKey) keys.push(rows.primaryKey(t.primaryKey[k]));
    const item: Params = { table_name: t.tableName, primary_key: keys };
    if (t.columnFilter) item.filter = encodeColumnFilter(t.columnFilter, rows);
    item.max_versions = t.maxVersions ? t.maxVersions : 1;
    if (t.timeRange) item.time_range = timeRange(t.timeRange);
    if (t.startColumn) item.start_column = t.startColumn;
    if (t.endColumn) item.end_column = t.endColumn;
    if (t.columnsToGet) item.columns_to_get = t.columnsToGet;
    tables.push(item);
  }
  return encodeMessage(M.BatchGetRowRequest, { tables } as Params);
}

/** Encodes one request body; `rows` must have been told {@link SdkPlainBufferEncoder.startRequest}. */
export function encodeSdkRequest(op: SdkOperation, params: Params, rows: SdkPlainBufferEncoder): Buffer {
  switch (op) {
    case 'createTable':
      return createTable(params);
    case 'updateTable':
      return updateTable(params);
    case 'describeTable':
    case 'deleteTable':
      return encodeMessage(M.TableNameRequest, { table_name: params.tableName });
    case 'listTable':
      return encodeMessage(M.ListTableRequest, {});
    case 'getRow':
      return getRow(params, rows);
    case 'getRange':
      return getRange(params, rows);
    case 'putRow':
      return putRow(params, rows);
    case 'updateRow':
      return updateRow(params, rows);
    case 'deleteRow':
      return deleteRow(params, rows);
    case 'batchWriteRow':
      return batchWriteRow(params, rows);
    case 'batchGetRow':
      return batchGetRow(params, rows);
    default:
      throw new Error(`The codec does not encode '${String(op)}' requests; use the SDK client for it`);
  }
}
