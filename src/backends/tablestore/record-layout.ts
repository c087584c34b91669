/**
 * How keyed records map onto TableStore rows (column names configurable, ASCII only):
 *
 * | column | kind | type | content |
 * |---|---|---|---|
 * | `partition` | PK 1 (partition key) | STRING | the record's partition |
 * | `key` | PK 2 | STRING | the record's key within its partition |
 * | `value` | attribute | BINARY | the encoded value |
 * | `version` | attribute | STRING | the version given by the write that stored it |
 *
 * @packageDocumentation
 */
import { checkColumnNames } from './column-names.js';
import type { StoredRecord } from '../../core/records.js';
import type { SdkAttributeInput, SdkPrimaryKeyInput, SdkRow } from './sdk-types.js';
import type { TableLayout } from './tables.js';

/** Column names of a record table. All must be distinct ASCII identifiers. */
export interface TableStoreRecordColumns {
  /**
   * Partition key (STRING) holding the record's partition.
   * @default 'partition'
   */
  readonly partition?: string;
  /**
   * Second primary key (STRING) holding the record's key.
   * @default 'key'
   */
  readonly key?: string;
  /**
   * Attribute (BINARY) holding the value.
   * @default 'value'
   */
  readonly value?: string;
  /**
   * Attribute (STRING) holding the version, compared by version conditions.
   * @default 'version'
   */
  readonly version?: string;
}

/** {@link TableStoreRecordColumns} with every name resolved. */
export type ResolvedRecordColumns = Required<TableStoreRecordColumns>;

/**
 * Resolves and validates record column names.
 * @throws {ValidationError} for a name that is not an ASCII identifier, or two equal names.
 */
export function resolveRecordColumns(columns: TableStoreRecordColumns | undefined): ResolvedRecordColumns {
  const resolved: ResolvedRecordColumns = {
    partition: columns?.partition ?? 'partition',
    key: columns?.key ?? 'key',
    value: columns?.value ?? 'value',
    version: columns?.version ?? 'version',
  };
  checkColumnNames(resolved, 'recordColumns');
  return resolved;
}

/** The primary key a record table needs. */
export function recordTableLayout(columns: ResolvedRecordColumns): TableLayout {
  return {
    kind: 'a record table',
    option: 'recordColumns',
    primaryKey: [
      { name: columns.partition, type: 'STRING' },
      { name: columns.key, type: 'STRING' },
    ],
  };
}

/** The request-shaped primary key of a record; `key` may be an SDK placeholder (`INF_MIN`, `INF_MAX`). */
export function recordPrimaryKey(columns: ResolvedRecordColumns, partition: string, key: unknown): SdkPrimaryKeyInput {
  return [{ [columns.partition]: partition }, { [columns.key]: key }];
}

/** The attribute columns of a put. */
export function recordAttributes(columns: ResolvedRecordColumns, value: Uint8Array, version: string): SdkAttributeInput {
  // A copy: the caller may reuse its buffer as soon as the call returns, and the SDK encodes lazily.
  return [{ [columns.value]: Buffer.from(value) }, { [columns.version]: version }];
}

/**
 * Reads a record row. Undefined for an absent row, and for a row without a version (not a record
 * this library wrote, or one whose cells all expired).
 */
export function parseRecord(row: SdkRow | undefined, columns: ResolvedRecordColumns): StoredRecord | undefined {
  const pk = row?.primaryKey;
  if (pk === undefined || pk === null || pk.length === 0) return undefined;
  const partition = pk.find((c) => c.name === columns.partition)?.value;
  const key = pk.find((c) => c.name === columns.key)?.value;
  if (typeof partition !== 'string' || typeof key !== 'string') return undefined;
  let value: Uint8Array | undefined;
  let version: string | undefined;
  for (const cell of row?.attributes ?? []) {
    if (cell.columnName === columns.value) {
      if (cell.columnValue instanceof Uint8Array) value = cell.columnValue;
      else if (typeof cell.columnValue === 'string') value = Buffer.from(cell.columnValue, 'utf8');
    } else if (cell.columnName === columns.version && typeof cell.columnValue === 'string') {
      version = cell.columnValue;
    }
  }
  if (version === undefined) return undefined;
  // The SDK copies every value out of the response, so its buffer can be handed on as it is.
  return { partition, key, value: value ?? new Uint8Array(0), version };
}
