/**
 * The backend's timeline requests as the SDK transport sends them: the params of PutRow,
 * BatchWriteRow (appends), GetRange (pages) and GetRow, built with the SDK's constants. The wire
 * transport's direct encoders (direct/) produce the same bytes without building these params;
 * the differential tests compare the two through the SDK's own encoder.
 *
 * @packageDocumentation
 */
import type { AppendRow } from '../../core/backend.js';
import { attributeColumns, primaryKey, toSdkLong, type ResolvedColumns } from './row-layout.js';
import type { TableStoreSdk } from './sdk-types.js';

/** A bound of a range: an exact seq, or the open end below (`'min'`) or above (`'max'`) every seq. */
export type SeqBound = bigint | 'min' | 'max';

/** One page of one timeline to read. */
export interface RangeQuery {
  readonly timelineId: string;
  readonly forward: boolean;
  /** Inclusive start. */
  readonly start: SeqBound;
  /** Exclusive end. */
  readonly end: SeqBound;
  /** Most rows in the page (1 to 5000). */
  readonly limit: number;
  /** Columns to return; all when absent. */
  readonly columnsToGet?: readonly string[];
}

/** A row to append and its write id (an append slot has both). */
export interface AppendEntry {
  readonly row: AppendRow;
  readonly writeId: string;
}

/** The SDK params of appending `entries` to `table`: PutRow params for one, BatchWriteRow params for several. */
export function appendParams(sdk: TableStoreSdk, columns: ResolvedColumns, table: string, entries: readonly AppendEntry[]): Record<string, unknown> {
  // One condition and one return content for every row: the SDK's encoder sees the same objects.
  const condition = new sdk.Condition(sdk.RowExistenceExpectation.IGNORE, null);
  const returnContent = { returnType: sdk.ReturnType.Primarykey };
  const rowRequest = (entry: AppendEntry): Record<string, unknown> => ({
    condition,
    primaryKey: primaryKey(columns, entry.row.timelineId, sdk.PK_AUTO_INCR),
    attributeColumns: attributeColumns(columns, entry.row, entry.writeId),
    returnContent,
  });
  if (entries.length === 1) return { tableName: table, ...rowRequest(entries[0]!) };
  return { tables: [{ tableName: table, rows: entries.map((entry) => ({ type: 'PUT', ...rowRequest(entry) })) }] };
}

function bound(sdk: TableStoreSdk, value: SeqBound): unknown {
  return value === 'min' ? sdk.INF_MIN : value === 'max' ? sdk.INF_MAX : toSdkLong(sdk, value);
}

/** The SDK params of reading one page of a timeline (max versions 1). */
export function rangeParams(sdk: TableStoreSdk, columns: ResolvedColumns, table: string, query: RangeQuery): Record<string, unknown> {
  const params: Record<string, unknown> = {
    tableName: table,
    direction: query.forward ? sdk.Direction.FORWARD : sdk.Direction.BACKWARD,
    inclusiveStartPrimaryKey: primaryKey(columns, query.timelineId, bound(sdk, query.start)),
    exclusiveEndPrimaryKey: primaryKey(columns, query.timelineId, bound(sdk, query.end)),
    limit: query.limit,
    maxVersions: 1,
  };
  if (query.columnsToGet !== undefined) params.columnsToGet = [...query.columnsToGet];
  return params;
}

/** The SDK params of reading the row `(timelineId, seq)` (max versions 1). */
export function getRowParams(sdk: TableStoreSdk, columns: ResolvedColumns, table: string, timelineId: string, seq: bigint): Record<string, unknown> {
  return { tableName: table, primaryKey: primaryKey(columns, timelineId, toSdkLong(sdk, seq)), maxVersions: 1 };
}
