/**
 * The TableStore semantics: each API decodes its protobuf request, validates it the way the
 * service does, applies it to the {@link Table}s and encodes the protobuf response.
 *
 * Errors are thrown as {@link OtsError}; the HTTP layer turns them into `Error{code,message}`.
 *
 * @packageDocumentation
 */
import { matches, paginateColumns, parseFilter, type ColumnFilter } from './conditions.js';
import { OtsError, invalid, tableNotExist, unsupported } from './errors.js';
import * as M from './messages.js';
import { decodeMessage, encodeMessage, ProtobufDecodeError, type Message, type MessageInput, type MessageSchema } from './protobuf.js';
import { CellOp, decodeRow, encodeRow, encodeRows, PlainBufferError, type PlainCell, type PlainRow, type PlainValue } from './plain-buffer.js';
import {
  compareBounds,
  isRowVisible,
  pkKey,
  readableVersions,
  Table,
  type AttrValue,
  type BoundValue,
  type CellVersion,
  type PkColumnDef,
  type PkType,
  type PkValue,
  type ResolvedCell,
  type ResolvedUpdateOp,
  type ResolvedWrite,
  type StoredRow,
  type TableDef,
  type TableOptionsDef,
} from './store.js';

/** The APIs the emulator implements. */
export const SUPPORTED_APIS = [
  'CreateTable',
  'ListTable',
  'DescribeTable',
  'UpdateTable',
  'DeleteTable',
  'GetRow',
  'PutRow',
  'UpdateRow',
  'DeleteRow',
  'GetRange',
  'BatchGetRow',
  'BatchWriteRow',
] as const;

/** Name of an API the emulator implements. */
export type SupportedApi = (typeof SUPPORTED_APIS)[number];

/** Shape of {@link LIMITS}. */
export interface EmulatorLimits {
  /** Most primary-key columns of a table. */
  readonly primaryKeyColumns: number;
  /** Largest STRING or BINARY primary-key value, in bytes. */
  readonly primaryKeyValueBytes: number;
  /** Largest attribute value, in bytes. */
  readonly attributeValueBytes: number;
  /** Most attribute columns written in one row. */
  readonly columnsPerRow: number;
  /** Most names in `columns_to_get`. */
  readonly columnsToGet: number;
  /** Most rows of one BatchWriteRow. */
  readonly batchWriteRows: number;
  /** Most rows of one BatchGetRow. */
  readonly batchGetRows: number;
  /** Most rows of one GetRange page. */
  readonly rangeRows: number;
  /** Most row bytes of one GetRange page. */
  readonly rangeBytes: number;
  /** Largest request body, in bytes. */
  readonly requestBytes: number;
  /** Smallest TTL other than -1, in seconds. */
  readonly minTimeToLive: number;
}

/** Service limits the emulator enforces. */
export const LIMITS: EmulatorLimits = Object.freeze({
  primaryKeyColumns: 4,
  primaryKeyValueBytes: 1024,
  attributeValueBytes: 2 * 1024 * 1024,
  columnsPerRow: 1024,
  columnsToGet: 128,
  batchWriteRows: 200,
  batchGetRows: 100,
  rangeRows: 5000,
  rangeBytes: 4 * 1024 * 1024,
  requestBytes: 4 * 1024 * 1024,
  minTimeToLive: 86400,
});

/** A persisted, replayable record of one applied change. */
export type LogRecord =
  | { readonly t: 'createTable'; readonly def: TableDef }
  | { readonly t: 'updateTable'; readonly def: TableDef }
  | { readonly t: 'deleteTable'; readonly name: string }
  | { readonly t: 'write'; readonly writes: readonly { readonly table: string; readonly w: ResolvedWrite }[] }
  | {
      readonly t: 'restoreRow';
      readonly table: string;
      readonly pk: readonly PkValue[];
      readonly cells: readonly (readonly [string, readonly CellVersion[]])[];
      readonly marker: bigint | undefined;
    }
  | { readonly t: 'autoIncrement'; readonly table: string; readonly partition: string; readonly value: bigint };

/** Per-request hooks from the HTTP layer. */
export interface RequestContext {
  /** Injected error for batch row `index` (request order), if any. */
  readonly rowError: (index: number) => { readonly code: string; readonly message: string } | undefined;
}

/** Engine construction options. */
export interface EngineOptions {
  /** Current time in milliseconds. */
  readonly now: () => bigint;
  /** Uniform `[0, 1)` generator for auto-increment gaps. */
  readonly random: () => number;
  /** Floor of every auto-increment value. */
  readonly autoIncrementStart?: bigint;
  /** Called once per applied change, before the response is sent (persistence). */
  readonly onRecord?: (rec: LogRecord) => void;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const PK_TYPES: Record<number, PkType> = { 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' };
const PK_TYPE_NUM: Record<PkType, number> = { INTEGER: 1, STRING: 2, BINARY: 3 };
const VT_NAME: Record<PlainValue['type'], string> = {
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

type PkSlot = PkValue | 'auto' | 'min' | 'max';
type PkMode = 'read' | 'write' | 'bound';

/** Decodes a request, turning malformed protobuf into `400 OTSParameterInvalid`. */
function decode<S extends MessageSchema>(schema: S, body: Buffer, name: string): Message<S> {
  try {
    return decodeMessage(schema, body, name);
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw invalid(`Failed to parse the ${name}: ${e.message}.`);
    throw e;
  }
}
function encode<S extends MessageSchema>(schema: S, msg: MessageInput<S>, name: string): Buffer {
  return encodeMessage(schema, msg, name);
}

function parseRow(buf: Buffer, what: string): PlainRow {
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

function rowDataSize(row: PlainRow): number {
  let n = 0;
  for (const c of [...row.primaryKey, ...row.attributes]) n += Buffer.byteLength(c.name) + (c.value ? byteLength(c.value) : 0) + 8;
  return n;
}

/** Limits that make BatchWriteRow fail as a whole, checked before any row is applied. */
function checkRowLimits(row: PlainRow): void {
  if (row.attributes.length > LIMITS.columnsPerRow) {
    throw new OtsError('OTSOutOfColumnCountLimit', `The number of columns from the request exceeds the limit, limit count: ${LIMITS.columnsPerRow}, column count: ${row.attributes.length}.`);
  }
  for (const c of row.primaryKey) {
    if (c.value && (c.value.type === 'STRING' || c.value.type === 'BINARY') && byteLength(c.value) > LIMITS.primaryKeyValueBytes) {
      throw invalid(`The length of primary key column: '${c.name}' exceeds the MaxLength:${LIMITS.primaryKeyValueBytes} with CurrentLength:${byteLength(c.value)}.`);
    }
  }
  for (const c of row.attributes) {
    if (c.value && (c.value.type === 'STRING' || c.value.type === 'BINARY') && byteLength(c.value) > LIMITS.attributeValueBytes) {
      throw invalid(`The length of attribute column: '${c.name}' exceeds the MaxLength:${LIMITS.attributeValueBytes} with CurrentLength:${byteLength(c.value)}.`);
    }
  }
}

function capacity(read: number, write: number): MessageInput<typeof M.ConsumedCapacity> {
  return { capacity_unit: { read, write } };
}

function cu(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096));
}

function pkToCells(def: TableDef, pk: readonly PkValue[]): PlainCell[] {
  return def.primaryKey.map((col, i) => ({ name: col.name, value: pkValueToPlain(col.type, pk[i] as PkValue) }));
}

function pkValueToPlain(type: PkType, v: PkValue): PlainValue {
  if (type === 'INTEGER') return { type: 'INTEGER', value: v as bigint };
  if (type === 'STRING') return { type: 'STRING', value: (v as Buffer).toString('utf8') };
  return { type: 'BINARY', value: v as Buffer };
}

/** A condition's view of rendered cells (sorted by name, newest version first). */
function lookupIn(cells: readonly PlainCell[]): (name: string) => CellVersion[] | undefined {
  return (name) => {
    const out: CellVersion[] = [];
    for (const c of cells) if (c.name === name && c.value) out.push({ ts: c.timestamp ?? 0n, value: c.value as AttrValue });
    return out.length > 0 ? out : undefined;
  };
}

interface ReadSpec {
  readonly columns: ReadonlySet<string> | undefined;
  readonly maxVersions: number | undefined;
  readonly timeRange: { readonly start: bigint; readonly end: bigint } | undefined;
  readonly startColumn: string | undefined;
  readonly endColumn: string | undefined;
  readonly filter: ColumnFilter | undefined;
}

/** The TableStore API implementation over in-memory tables. */
export class Engine {
  readonly #tables = new Map<string, Table>();
  readonly #opts: EngineOptions;

  constructor(opts: EngineOptions) {
    this.#opts = opts;
  }

  /** Tables by name. */
  get tables(): ReadonlyMap<string, Table> {
    return this.#tables;
  }

  /** Drops every table. */
  clear(): void {
    this.#tables.clear();
  }

  /** Number of rows visible now, per table. */
  visibleRows(): Record<string, number> {
    const now = this.#opts.now();
    const out: Record<string, number> = {};
    for (const [name, t] of this.#tables) {
      let n = 0;
      for (const r of t.rows()) if (isRowVisible(r, t.def.options, now)) n++;
      out[name] = n;
    }
    return out;
  }

  /**
   * Handles one API call and returns the encoded response body.
   *
   * @throws {@link OtsError} for every service error.
   */
  handle(api: SupportedApi, body: Buffer, ctx: RequestContext): Buffer {
    switch (api) {
      case 'CreateTable':
        return this.#createTable(body);
      case 'ListTable':
        decode(M.ListTableRequest, body, 'ListTableRequest');
        return encode(M.ListTableResponse, { table_names: [...this.#tables.keys()].sort() }, 'ListTableResponse');
      case 'DescribeTable':
        return this.#describeTable(body);
      case 'UpdateTable':
        return this.#updateTable(body);
      case 'DeleteTable': {
        const req = decode(M.TableNameRequest, body, 'DeleteTableRequest');
        if (!this.#tables.has(req.table_name)) throw tableNotExist();
        this.#commit({ t: 'deleteTable', name: req.table_name });
        return encode(M.DeleteTableResponse, {}, 'DeleteTableResponse');
      }
      case 'GetRow':
        return this.#getRow(body);
      case 'PutRow':
        return this.#putRow(body);
      case 'UpdateRow':
        return this.#updateRow(body);
      case 'DeleteRow':
        return this.#deleteRow(body);
      case 'GetRange':
        return this.#getRange(body);
      case 'BatchGetRow':
        return this.#batchGetRow(body, ctx);
      case 'BatchWriteRow':
        return this.#batchWriteRow(body, ctx);
    }
  }

  /** Applies a record without logging it (replay) or after logging it (live). */
  applyRecord(rec: LogRecord): void {
    switch (rec.t) {
      case 'createTable':
        this.#tables.set(rec.def.name, new Table(rec.def));
        return;
      case 'updateTable': {
        const t = this.#tables.get(rec.def.name);
        if (t) t.def = rec.def;
        return;
      }
      case 'deleteTable':
        this.#tables.delete(rec.name);
        return;
      case 'write':
        for (const { table, w } of rec.writes) this.#tables.get(table)?.apply(w);
        return;
      case 'restoreRow':
        this.#tables.get(rec.table)?.restore({ pk: rec.pk, cells: new Map(rec.cells), marker: rec.marker });
        return;
      case 'autoIncrement': {
        const t = this.#tables.get(rec.table);
        const last = t?.autoIncrement.get(rec.partition);
        if (t && (last === undefined || rec.value > last)) t.autoIncrement.set(rec.partition, rec.value);
        return;
      }
    }
  }

  /** The current state as records (log compaction). */
  *snapshot(): Generator<LogRecord> {
    for (const t of this.#tables.values()) {
      yield { t: 'createTable', def: t.def };
      for (const [partition, value] of t.autoIncrement) yield { t: 'autoIncrement', table: t.def.name, partition, value };
      for (const r of t.rows()) yield { t: 'restoreRow', table: t.def.name, pk: r.pk, cells: [...r.cells], marker: r.marker };
    }
  }

  #commit(rec: LogRecord): void {
    this.applyRecord(rec);
    this.#opts.onRecord?.(rec);
  }

  #table(name: string): Table {
    const t = this.#tables.get(name);
    if (!t) throw tableNotExist();
    return t;
  }

  // ---------------------------------------------------------------- tables

  #validateOptions(o: TableOptionsDef): void {
    if (!Number.isInteger(o.timeToLive) || (o.timeToLive !== -1 && o.timeToLive < LIMITS.minTimeToLive)) {
      throw invalid(`The value of time_to_live must be -1 (never expire) or at least ${LIMITS.minTimeToLive} seconds, got ${o.timeToLive}.`);
    }
    if (!Number.isInteger(o.maxVersions) || o.maxVersions < 1) throw invalid(`The value of max_versions must be at least 1, got ${o.maxVersions}.`);
    if (o.deviationCellVersionInSec < 1n) throw invalid(`The value of deviation_cell_version_in_sec must be positive, got ${o.deviationCellVersionInSec}.`);
  }

  #createTable(body: Buffer): Buffer {
    const req = decode(M.CreateTableRequest, body, 'CreateTableRequest');
    const meta = req.table_meta;
    const name = meta.table_name;
    if (!NAME_RE.test(name)) throw invalid(`Invalid table name: '${name}'.`);
    if (req.index_metas.length > 0 || meta.index_meta.length > 0) throw unsupported('Secondary indexes (index_metas)');
    if (req.stream_spec?.enable_stream) throw unsupported('Streams (stream_spec.enable_stream)');
    const pks = meta.primary_key;
    if (pks.length < 1 || pks.length > LIMITS.primaryKeyColumns) {
      throw invalid(`The number of primary key columns must be in range: [1, ${LIMITS.primaryKeyColumns}], got ${pks.length}.`);
    }
    const seen = new Set<string>();
    const primaryKey: PkColumnDef[] = pks.map((pk, i) => {
      if (!NAME_RE.test(pk.name)) throw invalid(`Invalid column name: '${pk.name}'.`);
      if (seen.has(pk.name)) throw invalid(`Duplicated primary key name: '${pk.name}'.`);
      seen.add(pk.name);
      const type = PK_TYPES[pk.type];
      if (!type) throw invalid(`Invalid type of primary key column '${pk.name}': ${pk.type}.`);
      const autoIncrement = pk.option === M.PrimaryKeyOption.AUTO_INCREMENT;
      if (pk.option !== undefined && !autoIncrement) throw invalid(`Invalid option of primary key column '${pk.name}': ${pk.option}.`);
      if (autoIncrement && type !== 'INTEGER') throw invalid(`The auto-increment primary key column '${pk.name}' must be of type INTEGER.`);
      if (autoIncrement && i === 0) throw invalid(`The partition key '${pk.name}' cannot be an auto-increment column.`);
      return { name: pk.name, type, autoIncrement };
    });
    if (primaryKey.filter((c) => c.autoIncrement).length > 1) throw invalid('A table can have at most one auto-increment primary key column.');
    const definedColumns = meta.defined_column.map((c) => {
      if (!NAME_RE.test(c.name)) throw invalid(`Invalid column name: '${c.name}'.`);
      if (seen.has(c.name)) throw invalid(`Duplicated column name: '${c.name}'.`);
      seen.add(c.name);
      if (![1, 2, 3, 4, 7].includes(c.type)) throw invalid(`Invalid type of defined column '${c.name}': ${c.type}.`);
      return { name: c.name, type: c.type };
    });
    const o = req.table_options;
    const options: TableOptionsDef = {
      timeToLive: o?.time_to_live ?? -1,
      maxVersions: o?.max_versions ?? 1,
      deviationCellVersionInSec: o?.deviation_cell_version_in_sec ?? 86400n,
      allowUpdate: o?.allow_update ?? true,
    };
    this.#validateOptions(options);
    const rt = req.reserved_throughput.capacity_unit;
    const read = rt.read ?? 0;
    const write = rt.write ?? 0;
    if (read < 0 || write < 0) throw invalid('The reserved capacity units must not be negative.');
    if (this.#tables.has(name)) throw new OtsError('OTSObjectAlreadyExist', 'Requested table already exists.');
    const def: TableDef = {
      name,
      primaryKey,
      definedColumns,
      options,
      reservedRead: read,
      reservedWrite: write,
      lastIncreaseTime: this.#opts.now() / 1000n,
    };
    this.#commit({ t: 'createTable', def });
    return encode(M.CreateTableResponse, {}, 'CreateTableResponse');
  }

  #tableOptionsMsg(o: TableOptionsDef): MessageInput<typeof M.TableOptions> {
    return {
      time_to_live: o.timeToLive,
      max_versions: o.maxVersions,
      deviation_cell_version_in_sec: o.deviationCellVersionInSec,
      allow_update: o.allowUpdate,
    };
  }

  #throughputMsg(def: TableDef): NonNullable<MessageInput<typeof M.UpdateTableResponse>['reserved_throughput_details']> {
    return {
      capacity_unit: { read: def.reservedRead, write: def.reservedWrite },
      last_increase_time: def.lastIncreaseTime,
      last_decrease_time: def.lastDecreaseTime,
    };
  }

  #describeTable(body: Buffer): Buffer {
    const req = decode(M.TableNameRequest, body, 'DescribeTableRequest');
    const def = this.#table(req.table_name).def;
    return encode(
      M.DescribeTableResponse,
      {
        table_meta: {
          table_name: def.name,
          primary_key: def.primaryKey.map((c) => ({
            name: c.name,
            type: PK_TYPE_NUM[c.type],
            option: c.autoIncrement ? M.PrimaryKeyOption.AUTO_INCREMENT : undefined,
          })),
          defined_column: def.definedColumns.map((c) => ({ name: c.name, type: c.type })),
        },
        reserved_throughput_details: this.#throughputMsg(def),
        table_options: this.#tableOptionsMsg(def.options),
        table_status: M.TableStatus.ACTIVE,
        stream_details: { enable_stream: false },
      },
      'DescribeTableResponse',
    );
  }

  #updateTable(body: Buffer): Buffer {
    const req = decode(M.UpdateTableRequest, body, 'UpdateTableRequest');
    const t = this.#table(req.table_name);
    if (req.stream_spec?.enable_stream) throw unsupported('Streams (stream_spec.enable_stream)');
    const cur = t.def;
    const o = req.table_options;
    const options: TableOptionsDef = {
      timeToLive: o?.time_to_live ?? cur.options.timeToLive,
      maxVersions: o?.max_versions ?? cur.options.maxVersions,
      deviationCellVersionInSec: o?.deviation_cell_version_in_sec ?? cur.options.deviationCellVersionInSec,
      allowUpdate: o?.allow_update ?? cur.options.allowUpdate,
    };
    this.#validateOptions(options);
    let { reservedRead, reservedWrite, lastIncreaseTime, lastDecreaseTime } = cur;
    const cap = req.reserved_throughput?.capacity_unit;
    if (cap) {
      const read = cap.read ?? reservedRead;
      const write = cap.write ?? reservedWrite;
      if (read < 0 || write < 0) throw invalid('The reserved capacity units must not be negative.');
      const nowSec = this.#opts.now() / 1000n;
      if (read > reservedRead || write > reservedWrite) lastIncreaseTime = nowSec;
      if (read < reservedRead || write < reservedWrite) lastDecreaseTime = nowSec;
      reservedRead = read;
      reservedWrite = write;
    }
    const def: TableDef = { ...cur, options, reservedRead, reservedWrite, lastIncreaseTime, lastDecreaseTime };
    this.#commit({ t: 'updateTable', def });
    return encode(
      M.UpdateTableResponse,
      { reserved_throughput_details: this.#throughputMsg(def), table_options: this.#tableOptionsMsg(def.options), stream_details: { enable_stream: false } },
      'UpdateTableResponse',
    );
  }

  // ---------------------------------------------------------------- keys and cells

  #decodePk(def: TableDef, cells: readonly PlainCell[], mode: PkMode): PkSlot[] {
    const schema = def.primaryKey;
    if (cells.length !== schema.length) {
      throw new OtsError('OTSInvalidPK', `Validate PK size fail. Input: ${cells.length}, Meta: ${schema.length}.`);
    }
    return schema.map((col, i) => {
      const cell = cells[i] as PlainCell;
      if (cell.name !== col.name) throw new OtsError('OTSInvalidPK', `Validate PK name fail. Input: ${cell.name}, Meta: ${col.name}.`);
      if (cell.op !== undefined || cell.timestamp !== undefined) throw invalid(`The primary key column '${col.name}' cannot carry a timestamp or an operation.`);
      const v = cell.value;
      if (!v) throw invalid(`The primary key column '${col.name}' has no value.`);
      if (v.type === 'INF_MIN' || v.type === 'INF_MAX') {
        if (mode !== 'bound') throw invalid(`INF_MIN and INF_MAX are only allowed in range bounds (column '${col.name}').`);
        return v.type === 'INF_MIN' ? 'min' : 'max';
      }
      if (v.type === 'AUTO_INCREMENT') {
        if (!col.autoIncrement) throw invalid(`The primary key column '${col.name}' is not an auto-increment column.`);
        if (mode !== 'write') throw invalid(`The auto-increment placeholder is only allowed when writing a row (column '${col.name}').`);
        return 'auto';
      }
      const expected = col.type === 'BINARY' ? 'BINARY' : col.type;
      if (v.type !== expected) throw new OtsError('OTSInvalidPK', `Validate PK type fail. Input: ${VT_NAME[v.type]}, Meta: ${VT_NAME[expected]}.`);
      if (v.type === 'INTEGER') return v.value;
      const bytes = v.type === 'STRING' ? Buffer.from(v.value, 'utf8') : v.value;
      if (bytes.length > LIMITS.primaryKeyValueBytes) {
        throw invalid(`The length of primary key column: '${col.name}' exceeds the MaxLength:${LIMITS.primaryKeyValueBytes} with CurrentLength:${bytes.length}.`);
      }
      return Buffer.from(bytes);
    });
  }

  #readPk(def: TableDef, row: PlainRow): PkValue[] {
    return this.#decodePk(def, row.primaryKey, 'read') as PkValue[];
  }

  #resolvePk(t: Table, slots: readonly PkSlot[]): PkValue[] {
    return slots.map((s) => {
      if (s !== 'auto') return s as PkValue;
      const part = pkKey([slots[0] as PkValue]);
      const last = t.autoIncrement.get(part);
      // Strictly increasing per partition and never consecutive, shaped like a microsecond clock.
      const gap = 1n + BigInt(Math.floor(this.#opts.random() * 64));
      let next = (last ?? 0n) + 1n + gap;
      const clockLike = this.#opts.now() * 1000n + BigInt(Math.floor(this.#opts.random() * 1000));
      if (clockLike > next) next = clockLike;
      const floor = this.#opts.autoIncrementStart ?? 1n;
      if (next < floor) next = floor + gap;
      if (next > INT64_MAX) throw new OtsError('OTSInternalServerError', 'The auto-increment column overflowed.');
      t.autoIncrement.set(part, next);
      return next;
    });
  }

  #checkTimestamp(def: TableDef, name: string, ts: bigint, now: bigint): void {
    const dev = def.options.deviationCellVersionInSec * 1000n;
    let lower = now - dev;
    if (def.options.timeToLive > 0) {
      const ttlLower = now - BigInt(def.options.timeToLive) * 1000n;
      if (ttlLower > lower) lower = ttlLower;
    }
    const upper = now + dev;
    if (ts < 0n || ts < lower || ts >= upper) {
      throw invalid(`The timestamp ${ts} of column '${name}' is out of the valid range [${lower < 0n ? 0n : lower}, ${upper}).`);
    }
  }

  #checkAttrName(def: TableDef, name: string): void {
    if (!NAME_RE.test(name)) throw invalid(`Invalid column name: '${name}'.`);
    if (def.primaryKey.some((c) => c.name === name)) throw invalid(`Duplicated attribute column name with primary key column: '${name}'.`);
  }

  #attrValue(name: string, v: PlainValue | undefined): AttrValue {
    if (!v) throw invalid(`The attribute column '${name}' has no value.`);
    if (v.type === 'INTEGER' || v.type === 'DOUBLE' || v.type === 'BOOLEAN' || v.type === 'STRING' || v.type === 'BINARY') return v;
    throw invalid(`Invalid type of attribute column '${name}': ${VT_NAME[v.type]}.`);
  }

  #putCells(def: TableDef, attrs: readonly PlainCell[], now: bigint): ResolvedCell[] {
    const seen = new Set<string>();
    return attrs.map((c) => {
      this.#checkAttrName(def, c.name);
      if (c.op !== undefined) throw invalid(`PutRow does not accept an operation on column '${c.name}'.`);
      const value = this.#attrValue(c.name, c.value);
      if (c.timestamp !== undefined) this.#checkTimestamp(def, c.name, c.timestamp, now);
      const ts = c.timestamp ?? now;
      const k = `${c.name}\u0000${ts}`;
      if (seen.has(k)) throw invalid(`Duplicated attribute column name: '${c.name}'.`);
      seen.add(k);
      return { name: c.name, value, ts };
    });
  }

  #updateOps(t: Table, pk: readonly PkValue[] | undefined, attrs: readonly PlainCell[], now: bigint): ResolvedUpdateOp[] {
    const def = t.def;
    if (attrs.length === 0) throw invalid('UpdateRow needs at least one attribute column change.');
    const existing = pk ? t.get(pk) : undefined;
    const pending = new Map<string, bigint>();
    // As on the service, an atomic counter column takes no other change in the same request.
    const incremented = new Set<string>();
    const changed = new Set<string>();
    for (const c of attrs) {
      if (c.op === CellOp.INCREMENT ? changed.has(c.name) || incremented.has(c.name) : incremented.has(c.name)) {
        throw invalid(`The column '${c.name}' is incremented and changed again in the same request: an atomic counter takes no other change.`);
      }
      (c.op === CellOp.INCREMENT ? incremented : changed).add(c.name);
    }
    return attrs.map((c): ResolvedUpdateOp => {
      this.#checkAttrName(def, c.name);
      switch (c.op) {
        case undefined: {
          const value = this.#attrValue(c.name, c.value);
          if (c.timestamp !== undefined) this.#checkTimestamp(def, c.name, c.timestamp, now);
          if (value.type === 'INTEGER') pending.set(c.name, value.value);
          return { op: 'put', name: c.name, value, ts: c.timestamp ?? now };
        }
        case CellOp.DELETE_ALL_VERSIONS:
          if (c.value !== undefined || c.timestamp !== undefined) throw invalid(`DELETE_ALL on column '${c.name}' takes neither a value nor a timestamp.`);
          pending.delete(c.name);
          return { op: 'deleteAll', name: c.name };
        case CellOp.DELETE_ONE_VERSION:
          if (c.timestamp === undefined) throw invalid(`DELETE of one version of column '${c.name}' needs a timestamp.`);
          if (c.value !== undefined) throw invalid(`DELETE of one version of column '${c.name}' takes no value.`);
          return { op: 'deleteOne', name: c.name, ts: c.timestamp };
        case CellOp.INCREMENT: {
          const delta = this.#attrValue(c.name, c.value);
          if (delta.type !== 'INTEGER') throw invalid(`INCREMENT on column '${c.name}' needs an INTEGER value.`);
          if (c.timestamp !== undefined) throw invalid(`INCREMENT on column '${c.name}' takes no timestamp.`);
          let base = pending.get(c.name);
          if (base === undefined && existing) {
            const latest = readableVersions(existing.cells.get(c.name) ?? [], def.options, now)[0];
            if (latest && latest.value.type !== 'INTEGER') throw invalid(`INCREMENT on column '${c.name}' whose value is not an INTEGER.`);
            base = latest?.value.type === 'INTEGER' ? latest.value.value : undefined;
          }
          const sum = (base ?? 0n) + delta.value;
          if (sum > INT64_MAX || sum < INT64_MIN) throw invalid(`INCREMENT on column '${c.name}' overflows a 64-bit integer.`);
          pending.set(c.name, sum);
          return { op: 'put', name: c.name, value: { type: 'INTEGER', value: sum }, ts: now };
        }
        default:
          throw invalid(`Unknown operation ${c.op} on column '${c.name}'.`);
      }
    });
  }

  /** Checks the row-existence expectation, then the column condition; `pk` is `undefined` for a row being created. */
  #checkCondition(t: Table, pk: readonly PkValue[] | undefined, cond: { row_existence: number; column_condition?: Buffer | undefined }, now: bigint): void {
    const e = cond.row_existence;
    if (e !== M.RowExistence.IGNORE && e !== M.RowExistence.EXPECT_EXIST && e !== M.RowExistence.EXPECT_NOT_EXIST) {
      throw invalid(`Invalid row existence expectation: ${e}.`);
    }
    const filter = cond.column_condition !== undefined && cond.column_condition.length > 0 ? parseFilter(cond.column_condition, t.def, 'condition') : undefined;
    if (e === M.RowExistence.IGNORE && filter === undefined) return;
    const stored = pk ? t.get(pk) : undefined;
    const row = stored !== undefined && isRowVisible(stored, t.def.options, now) ? stored : undefined;
    if (e !== M.RowExistence.IGNORE && (e === M.RowExistence.EXPECT_EXIST) !== (row !== undefined)) {
      throw new OtsError('OTSConditionCheckFail', 'Condition check failed.');
    }
    if (filter && !matches(filter, (name) => (row ? readableVersions(row.cells.get(name) ?? [], t.def.options, now) : undefined))) {
      throw new OtsError('OTSConditionCheckFail', 'Condition check failed.');
    }
  }

  #returnRow(
    t: Table,
    pk: readonly PkValue[],
    rc: { return_type?: number | undefined; return_column_names: string[] } | undefined,
    now: bigint,
  ): Buffer | undefined {
    const type = rc?.return_type ?? M.ReturnType.RT_NONE;
    if (type === M.ReturnType.RT_NONE) return undefined;
    if (type !== M.ReturnType.RT_PK && type !== M.ReturnType.RT_AFTER_MODIFY) throw invalid(`Invalid return type: ${type}.`);
    const attributes: PlainCell[] = [];
    if (type === M.ReturnType.RT_AFTER_MODIFY) {
      const row = t.get(pk);
      for (const name of rc?.return_column_names ?? []) {
        const v = row ? readableVersions(row.cells.get(name) ?? [], t.def.options, now)[0] : undefined;
        if (v) attributes.push({ name, value: v.value, timestamp: v.ts });
      }
    }
    return encodeRow({ primaryKey: pkToCells(t.def, pk), attributes, deleteMarker: false });
  }

  /** Resolves, checks and applies one row write; returns the applied write and its primary key. */
  #writeRow(
    t: Table,
    kind: 'put' | 'update' | 'delete',
    row: PlainRow,
    cond: { row_existence: number; column_condition?: Buffer | undefined },
    now: bigint,
  ): ResolvedWrite {
    const def = t.def;
    if (kind === 'delete') {
      if (row.attributes.length > 0) throw invalid('DeleteRow takes no attribute columns.');
      const pk = this.#readPk(def, row);
      this.#checkCondition(t, pk, cond, now);
      return { kind: 'delete', pk };
    }
    if (row.deleteMarker) throw invalid(`A ${kind === 'put' ? 'PutRow' : 'UpdateRow'} row cannot carry a delete marker.`);
    if (kind === 'update' && !def.options.allowUpdate) throw invalid('UpdateRow is not allowed on this table (allow_update is false).');
    const slots = this.#decodePk(def, row.primaryKey, 'write');
    const hasAuto = slots.includes('auto');
    if (hasAuto && cond.row_existence !== M.RowExistence.IGNORE) {
      throw invalid('The row existence expectation must be IGNORE when writing with an auto-increment placeholder.');
    }
    if (kind === 'put') {
      const cells = this.#putCells(def, row.attributes, now);
      const pk = hasAuto ? this.#resolvePk(t, slots) : (slots as PkValue[]);
      this.#checkCondition(t, hasAuto ? undefined : pk, cond, now);
      return { kind: 'put', pk, cells, ts: now };
    }
    const known = hasAuto ? undefined : (slots as PkValue[]);
    this.#checkCondition(t, known, cond, now);
    const ops = this.#updateOps(t, known, row.attributes, now);
    const pk = known ?? this.#resolvePk(t, slots);
    return { kind: 'update', pk, ops };
  }

  #singleWrite(
    api: 'PutRow' | 'UpdateRow' | 'DeleteRow',
    tableName: string,
    rowBytes: Buffer,
    cond: { row_existence: number; column_condition?: Buffer | undefined },
    rc: { return_type?: number | undefined; return_column_names: string[] } | undefined,
    transactionId: string | undefined,
  ): Buffer {
    if (transactionId !== undefined) throw unsupported('Local transactions (transaction_id)');
    const t = this.#table(tableName);
    const row = parseRow(rowBytes, `the ${api} request`);
    checkRowLimits(row);
    const now = this.#opts.now();
    const kind = api === 'PutRow' ? 'put' : api === 'UpdateRow' ? 'update' : 'delete';
    const w = this.#writeRow(t, kind, row, cond, now);
    this.#commit({ t: 'write', writes: [{ table: t.def.name, w }] });
    return encode(
      M.WriteRowResponse,
      { consumed: capacity(0, cu(rowDataSize(row))), row: this.#returnRow(t, w.pk, rc, now) },
      `${api}Response`,
    );
  }

  #putRow(body: Buffer): Buffer {
    const req = decode(M.PutRowRequest, body, 'PutRowRequest');
    return this.#singleWrite('PutRow', req.table_name, req.row, req.condition, req.return_content, req.transaction_id);
  }

  #updateRow(body: Buffer): Buffer {
    const req = decode(M.UpdateRowRequest, body, 'UpdateRowRequest');
    return this.#singleWrite('UpdateRow', req.table_name, req.row_change, req.condition, req.return_content, req.transaction_id);
  }

  #deleteRow(body: Buffer): Buffer {
    const req = decode(M.DeleteRowRequest, body, 'DeleteRowRequest');
    return this.#singleWrite('DeleteRow', req.table_name, req.primary_key, req.condition, req.return_content, req.transaction_id);
  }

  // ---------------------------------------------------------------- reads

  #readSpec(
    def: TableDef,
    req: {
      columns_to_get: string[];
      max_versions?: number | undefined;
      time_range?: { start_time?: bigint | undefined; end_time?: bigint | undefined; specific_time?: bigint | undefined } | undefined;
      filter?: Buffer | undefined;
      start_column?: string | undefined;
      end_column?: string | undefined;
      token?: Buffer | Buffer[] | undefined;
      transaction_id?: string | undefined;
    },
  ): ReadSpec {
    const token = req.token;
    if (token !== undefined && (Array.isArray(token) ? token.some((b) => b.length > 0) : token.length > 0)) throw unsupported('Wide-row paging tokens');
    if (req.transaction_id !== undefined) throw unsupported('Local transactions (transaction_id)');
    if (req.columns_to_get.length > LIMITS.columnsToGet) throw invalid(`The number of columns_to_get exceeds the limit: ${LIMITS.columnsToGet}.`);
    if (req.max_versions === undefined && req.time_range === undefined) throw invalid('Neither max_versions nor time_range is set.');
    if (req.max_versions !== undefined && req.max_versions < 1) throw invalid(`The value of max_versions must be at least 1, got ${req.max_versions}.`);
    let timeRange: ReadSpec['timeRange'];
    const tr = req.time_range;
    if (tr) {
      if (tr.specific_time !== undefined) {
        if (tr.start_time !== undefined || tr.end_time !== undefined) throw invalid('time_range takes either specific_time or start_time/end_time.');
        timeRange = { start: tr.specific_time, end: tr.specific_time + 1n };
      } else {
        if (tr.start_time === undefined || tr.end_time === undefined) throw invalid('time_range needs both start_time and end_time.');
        if (tr.start_time < 0n || tr.start_time >= tr.end_time) throw invalid('time_range.start_time must be non-negative and less than end_time.');
        timeRange = { start: tr.start_time, end: tr.end_time };
      }
    }
    return {
      columns: req.columns_to_get.length > 0 ? new Set(req.columns_to_get) : undefined,
      maxVersions: req.max_versions,
      timeRange,
      startColumn: req.start_column,
      endColumn: req.end_column,
      filter: req.filter !== undefined && req.filter.length > 0 ? parseFilter(req.filter, def, 'filter') : undefined,
    };
  }

  /** The row as a read returns it, or `undefined` when the read shows nothing. */
  #render(t: Table, row: StoredRow, spec: ReadSpec, now: bigint): PlainRow | undefined {
    const def = t.def;
    if (!isRowVisible(row, def.options, now)) return undefined;
    let attributes: PlainCell[] = [];
    const names = [...row.cells.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      if (spec.columns && !spec.columns.has(name)) continue;
      if (spec.startColumn !== undefined && name < spec.startColumn) continue;
      if (spec.endColumn !== undefined && name >= spec.endColumn) continue;
      let versions = readableVersions(row.cells.get(name) ?? [], def.options, now);
      const tr = spec.timeRange;
      if (tr) versions = versions.filter((v) => v.ts >= tr.start && v.ts < tr.end);
      if (spec.maxVersions !== undefined) versions = versions.slice(0, spec.maxVersions);
      for (const v of versions) attributes.push({ name, value: v.value, timestamp: v.ts });
    }
    if (attributes.length === 0 && spec.columns && !def.primaryKey.some((c) => spec.columns?.has(c.name))) return undefined;
    const filter = spec.filter;
    if (filter?.kind === 'pagination') attributes = paginateColumns(attributes, filter.offset, filter.limit);
    else if (filter && !matches(filter, lookupIn(attributes))) return undefined;
    return { primaryKey: pkToCells(def, row.pk), attributes, deleteMarker: false };
  }

  #getRow(body: Buffer): Buffer {
    const req = decode(M.GetRowRequest, body, 'GetRowRequest');
    const t = this.#table(req.table_name);
    const spec = this.#readSpec(t.def, req);
    const pk = this.#readPk(t.def, parseRow(req.primary_key, 'GetRowRequest.primary_key'));
    const now = this.#opts.now();
    const stored = t.get(pk);
    const row = stored ? this.#render(t, stored, spec, now) : undefined;
    const bytes = row ? encodeRow(row) : Buffer.alloc(0);
    return encode(M.GetRowResponse, { consumed: capacity(cu(bytes.length), 0), row: bytes }, 'GetRowResponse');
  }

  #getRange(body: Buffer): Buffer {
    const req = decode(M.GetRangeRequest, body, 'GetRangeRequest');
    const t = this.#table(req.table_name);
    const spec = this.#readSpec(t.def, req);
    if (req.direction !== M.Direction.FORWARD && req.direction !== M.Direction.BACKWARD) throw invalid(`Invalid direction: ${req.direction}.`);
    const backward = req.direction === M.Direction.BACKWARD;
    const start = this.#decodePk(t.def, parseRow(req.inclusive_start_primary_key, 'inclusive_start_primary_key').primaryKey, 'bound') as BoundValue[];
    const end = this.#decodePk(t.def, parseRow(req.exclusive_end_primary_key, 'exclusive_end_primary_key').primaryKey, 'bound') as BoundValue[];
    const order = compareBounds(start, end);
    if (!backward && order >= 0) throw invalid('The inclusive_start_primary_key must be less than the exclusive_end_primary_key in a FORWARD range.');
    if (backward && order <= 0) throw invalid('The inclusive_start_primary_key must be greater than the exclusive_end_primary_key in a BACKWARD range.');
    if (req.limit !== undefined && req.limit <= 0) throw invalid(`The limit must be greater than 0, got ${req.limit}.`);
    const limit = Math.min(req.limit ?? LIMITS.rangeRows, LIMITS.rangeRows);
    const now = this.#opts.now();
    const rows: PlainRow[] = [];
    let size = 4;
    let next: readonly PkValue[] | undefined;
    let scanned = 0;
    for (const stored of t.scan(start, end, backward)) {
      // A page reads at most rangeRows stored rows, even when a filter skips them: like the
      // service, it may then come back short or empty with a next key.
      if (rows.length >= limit || scanned >= LIMITS.rangeRows) {
        next = stored.pk;
        break;
      }
      scanned++;
      const row = this.#render(t, stored, spec, now);
      if (!row) continue;
      const rowSize = encodeRow(row).length - 4;
      // Cut at a row boundary; a single oversized row still goes out alone.
      if (rows.length > 0 && size + rowSize > LIMITS.rangeBytes) {
        next = stored.pk;
        break;
      }
      rows.push(row);
      size += rowSize;
    }
    const rowsBytes = encodeRows(rows);
    return encode(
      M.GetRangeResponse,
      {
        consumed: capacity(cu(rowsBytes.length), 0),
        rows: rowsBytes,
        next_start_primary_key: next ? encodeRow({ primaryKey: pkToCells(t.def, next), attributes: [], deleteMarker: false }) : undefined,
      },
      'GetRangeResponse',
    );
  }

  #batchGetRow(body: Buffer, ctx: RequestContext): Buffer {
    const req = decode(M.BatchGetRowRequest, body, 'BatchGetRowRequest');
    const total = req.tables.reduce((n, tb) => n + tb.primary_key.length, 0);
    if (total === 0) throw invalid('No row specified in the BatchGetRow request.');
    if (total > LIMITS.batchGetRows) throw invalid(`The number of rows in BatchGetRow exceeds the limit: ${LIMITS.batchGetRows}, got ${total}.`);
    const names = new Set<string>();
    for (const tb of req.tables) {
      if (names.has(tb.table_name)) throw invalid(`Duplicated table name in BatchGetRow: '${tb.table_name}'.`);
      names.add(tb.table_name);
      this.#table(tb.table_name);
    }
    const now = this.#opts.now();
    let index = 0;
    const tables = req.tables.map((tb) => {
      const t = this.#table(tb.table_name);
      const spec = this.#readSpec(t.def, { ...tb, transaction_id: undefined });
      const rows = tb.primary_key.map((pkBytes) => {
        const injected = ctx.rowError(index++);
        if (injected) return { is_ok: false, error: injected };
        try {
          const pk = this.#readPk(t.def, parseRow(pkBytes, 'BatchGetRowRequest.primary_key'));
          const stored = t.get(pk);
          const row = stored ? this.#render(t, stored, spec, now) : undefined;
          const bytes = row ? encodeRow(row) : Buffer.alloc(0);
          return { is_ok: true, consumed: capacity(cu(bytes.length), 0), row: bytes };
        } catch (e) {
          if (e instanceof OtsError) return { is_ok: false, error: { code: e.code, message: e.message } };
          throw e;
        }
      });
      return { table_name: tb.table_name, rows };
    });
    return encode(M.BatchGetRowResponse, { tables }, 'BatchGetRowResponse');
  }

  #batchWriteRow(body: Buffer, ctx: RequestContext): Buffer {
    const req = decode(M.BatchWriteRowRequest, body, 'BatchWriteRowRequest');
    if (req.transaction_id !== undefined) throw unsupported('Local transactions (transaction_id)');
    const total = req.tables.reduce((n, tb) => n + tb.rows.length, 0);
    if (total === 0) throw invalid('No row specified in the BatchWriteRow request.');
    if (total > LIMITS.batchWriteRows) throw invalid(`The number of rows in BatchWriteRow exceeds the limit: ${LIMITS.batchWriteRows}, got ${total}.`);
    const names = new Set<string>();
    // Whole-request checks first: nothing is applied unless all of them pass.
    const prepared = req.tables.map((tb) => {
      if (names.has(tb.table_name)) throw invalid(`Duplicated table name in BatchWriteRow: '${tb.table_name}'.`);
      names.add(tb.table_name);
      const t = this.#table(tb.table_name);
      const keys = new Set<string>();
      const rows = tb.rows.map((r) => {
        const row = parseRow(r.row_change, 'BatchWriteRowRequest.row_change');
        checkRowLimits(row);
        if (r.type !== M.OperationType.PUT && r.type !== M.OperationType.UPDATE && r.type !== M.OperationType.DELETE) {
          throw invalid(`Invalid operation type in BatchWriteRow: ${r.type}.`);
        }
        let slots: PkSlot[] | undefined;
        try {
          slots = this.#decodePk(t.def, row.primaryKey, r.type === M.OperationType.DELETE ? 'read' : 'write');
        } catch (e) {
          if (!(e instanceof OtsError)) throw e;
          // Reported for the row itself below.
        }
        if (slots && !slots.includes('auto')) {
          const key = pkKey(slots as PkValue[]);
          if (keys.has(key)) throw invalid(`Duplicated primary key in table '${tb.table_name}' of the BatchWriteRow request.`);
          keys.add(key);
        }
        return { r, row };
      });
      return { t, rows };
    });
    const now = this.#opts.now();
    const applied: { table: string; w: ResolvedWrite }[] = [];
    let index = 0;
    const tables = prepared.map(({ t, rows }) => ({
      table_name: t.def.name,
      rows: rows.map(({ r, row }) => {
        const injected = ctx.rowError(index++);
        if (injected) return { is_ok: false, error: injected };
        try {
          const kind = r.type === M.OperationType.PUT ? 'put' : r.type === M.OperationType.UPDATE ? 'update' : 'delete';
          const w = this.#writeRow(t, kind, row, r.condition, now);
          // Apply at once so that later rows of the batch see this one (auto-increment order).
          t.apply(w);
          applied.push({ table: t.def.name, w });
          return { is_ok: true, consumed: capacity(0, cu(rowDataSize(row))), row: this.#returnRow(t, w.pk, r.return_content, now) };
        } catch (e) {
          if (e instanceof OtsError) return { is_ok: false, error: { code: e.code, message: e.message } };
          throw e;
        }
      }),
    }));
    if (applied.length > 0) this.#opts.onRecord?.({ t: 'write', writes: applied });
    return encode(M.BatchWriteRowResponse, { tables }, 'BatchWriteRowResponse');
  }
}
