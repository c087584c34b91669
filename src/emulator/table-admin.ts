/**
 * Table administration: CreateTable, ListTable, DescribeTable, UpdateTable and DeleteTable,
 * validated as the service validates them.
 *
 * @packageDocumentation
 */
import { tableOf, type Db } from './context.js';
import { OtsError, invalid, tableNotExist, unsupported } from './errors.js';
import { LIMITS } from './limits.js';
import * as M from '../codec/messages.js';
import type { MessageInput } from '../codec/protobuf.js';
import type { PkColumnDef, PkType, StreamDef, TableDef, TableOptionsDef } from './store.js';
import { decode, encode, NAME_RE } from './wire.js';

const PK_TYPES: Record<number, PkType> = { 1: 'INTEGER', 2: 'STRING', 3: 'BINARY' };
const PK_TYPE_NUM: Record<PkType, number> = { INTEGER: 1, STRING: 2, BINARY: 3 };

/** The service keeps stream records from 1 hour to 7 days. */
const STREAM_HOURS = { min: 1, max: 168 } as const;

/**
 * The stream a StreamSpecification asks for: enabled with its expiration time, or none. The
 * emulator stores and describes it; it produces no stream records (those APIs stay unsupported).
 */
function streamOf(
  table: string,
  spec: { enable_stream: boolean; expiration_time?: number | undefined } | undefined,
  current: StreamDef | undefined,
  now: bigint,
): StreamDef | undefined {
  if (!spec?.enable_stream) {
    if (spec?.expiration_time !== undefined) throw invalid('StreamSpecification.expiration_time is only allowed with enable_stream: true.');
    return undefined;
  }
  const hours = spec.expiration_time;
  if (hours === undefined) throw invalid('StreamSpecification.expiration_time is required when enable_stream is true.');
  if (!Number.isInteger(hours) || hours < STREAM_HOURS.min || hours > STREAM_HOURS.max) {
    throw invalid(`StreamSpecification.expiration_time must be in range [${STREAM_HOURS.min}, ${STREAM_HOURS.max}] hours, got ${hours}.`);
  }
  // Shaped like the service's ids: the table name and the enable time.
  return { streamId: current?.streamId ?? `${table}_${now}`, expirationTime: hours, lastEnableTime: current?.lastEnableTime ?? now };
}

function streamDetails(stream: StreamDef | undefined): MessageInput<typeof M.DescribeTableResponse>['stream_details'] {
  if (!stream) return { enable_stream: false };
  return { enable_stream: true, stream_id: stream.streamId, expiration_time: stream.expirationTime, last_enable_time: stream.lastEnableTime };
}

function validateOptions(o: TableOptionsDef): void {
  if (!Number.isInteger(o.timeToLive) || (o.timeToLive !== -1 && o.timeToLive < LIMITS.minTimeToLive)) {
    throw invalid(`The value of time_to_live must be -1 (never expire) or at least ${LIMITS.minTimeToLive} seconds, got ${o.timeToLive}.`);
  }
  if (!Number.isInteger(o.maxVersions) || o.maxVersions < 1) throw invalid(`The value of max_versions must be at least 1, got ${o.maxVersions}.`);
  if (o.deviationCellVersionInSec < 1n) throw invalid(`The value of deviation_cell_version_in_sec must be positive, got ${o.deviationCellVersionInSec}.`);
}

/** CreateTable. */
export function createTable(db: Db, body: Buffer): Buffer {
  const req = decode(M.CreateTableRequest, body, 'CreateTableRequest');
  const meta = req.table_meta;
  const name = meta.table_name;
  if (!NAME_RE.test(name)) throw invalid(`Invalid table name: '${name}'.`);
  if (req.index_metas.length > 0 || meta.index_meta.length > 0) throw unsupported('Secondary indexes (index_metas)');
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
  validateOptions(options);
  const rt = req.reserved_throughput.capacity_unit;
  const read = rt.read ?? 0;
  const write = rt.write ?? 0;
  if (read < 0 || write < 0) throw invalid('The reserved capacity units must not be negative.');
  if (db.tables.has(name)) throw new OtsError('OTSObjectAlreadyExist', 'Requested table already exists.');
  const def: TableDef = {
    name,
    primaryKey,
    definedColumns,
    options,
    reservedRead: read,
    reservedWrite: write,
    lastIncreaseTime: db.opts.now() / 1000n,
    stream: streamOf(name, req.stream_spec, undefined, db.opts.now()),
  };
  db.commit({ t: 'createTable', def });
  return encode(M.CreateTableResponse, {}, 'CreateTableResponse');
}

function tableOptionsMsg(o: TableOptionsDef): MessageInput<typeof M.TableOptions> {
  return {
    time_to_live: o.timeToLive,
    max_versions: o.maxVersions,
    deviation_cell_version_in_sec: o.deviationCellVersionInSec,
    allow_update: o.allowUpdate,
  };
}

function throughputMsg(def: TableDef): NonNullable<MessageInput<typeof M.UpdateTableResponse>['reserved_throughput_details']> {
  return {
    capacity_unit: { read: def.reservedRead, write: def.reservedWrite },
    last_increase_time: def.lastIncreaseTime,
    last_decrease_time: def.lastDecreaseTime,
  };
}

/** DescribeTable. */
export function describeTable(db: Db, body: Buffer): Buffer {
  const req = decode(M.TableNameRequest, body, 'DescribeTableRequest');
  const def = tableOf(db, req.table_name).def;
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
      reserved_throughput_details: throughputMsg(def),
      table_options: tableOptionsMsg(def.options),
      table_status: M.TableStatus.ACTIVE,
      stream_details: streamDetails(def.stream),
    },
    'DescribeTableResponse',
  );
}

/** UpdateTable. */
export function updateTable(db: Db, body: Buffer): Buffer {
  const req = decode(M.UpdateTableRequest, body, 'UpdateTableRequest');
  const t = tableOf(db, req.table_name);
  const cur = t.def;
  const o = req.table_options;
  const options: TableOptionsDef = {
    timeToLive: o?.time_to_live ?? cur.options.timeToLive,
    maxVersions: o?.max_versions ?? cur.options.maxVersions,
    deviationCellVersionInSec: o?.deviation_cell_version_in_sec ?? cur.options.deviationCellVersionInSec,
    allowUpdate: o?.allow_update ?? cur.options.allowUpdate,
  };
  validateOptions(options);
  let { reservedRead, reservedWrite, lastIncreaseTime, lastDecreaseTime } = cur;
  const cap = req.reserved_throughput?.capacity_unit;
  if (cap) {
    const read = cap.read ?? reservedRead;
    const write = cap.write ?? reservedWrite;
    if (read < 0 || write < 0) throw invalid('The reserved capacity units must not be negative.');
    const nowSec = db.opts.now() / 1000n;
    if (read > reservedRead || write > reservedWrite) lastIncreaseTime = nowSec;
    if (read < reservedRead || write < reservedWrite) lastDecreaseTime = nowSec;
    reservedRead = read;
    reservedWrite = write;
  }
  const stream = req.stream_spec ? streamOf(cur.name, req.stream_spec, cur.stream, db.opts.now()) : cur.stream;
  const def: TableDef = { ...cur, options, reservedRead, reservedWrite, lastIncreaseTime, lastDecreaseTime, stream };
  db.commit({ t: 'updateTable', def });
  return encode(
    M.UpdateTableResponse,
    { reserved_throughput_details: throughputMsg(def), table_options: tableOptionsMsg(def.options), stream_details: streamDetails(def.stream) },
    'UpdateTableResponse',
  );
}

/** ListTable. */
export function listTable(db: Db, body: Buffer): Buffer {
  decode(M.ListTableRequest, body, 'ListTableRequest');
  return encode(M.ListTableResponse, { table_names: [...db.tables.keys()].sort() }, 'ListTableResponse');
}

/** DeleteTable. */
export function deleteTable(db: Db, body: Buffer): Buffer {
  const req = decode(M.TableNameRequest, body, 'DeleteTableRequest');
  if (!db.tables.has(req.table_name)) throw tableNotExist();
  db.commit({ t: 'deleteTable', name: req.table_name });
  return encode(M.DeleteTableResponse, {}, 'DeleteTableResponse');
}
