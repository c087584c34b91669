/**
 * Timeline reads: one row with GetRow, one page of a range with GetRange.
 *
 * @packageDocumentation
 */
import type { ScanPage, ScanPageRequest, StoredRow } from '../../core/backend.js';
import { MAX_SCAN_ROWS } from './limits.js';
import { request } from './request.js';
import { parseRow, primaryKey, seqOfPrimaryKey, toSdkLong, type ResolvedColumns } from './row-layout.js';
import type { OperationContext, Runtime } from './runtime.js';
import type { SdkPrimaryKeyCell } from './sdk-types.js';

/** Reads one entry; undefined when the row is absent or expired. */
export async function getRow(rt: Runtime, ctx: OperationContext, timelineId: string, seq: bigint): Promise<StoredRow | undefined> {
  const response = await request(rt, ctx, () =>
    rt.client.getRow({
      tableName: ctx.table,
      primaryKey: primaryKey(rt.columns, timelineId, toSdkLong(rt.sdk, seq)),
      maxVersions: 1,
    }),
  );
  const parsed = parseRow(response.row, rt.columns);
  return parsed !== undefined && parsed.row.timelineId === timelineId && parsed.row.seq === seq ? parsed.row : undefined;
}

/** Reads one page of a timeline, forward or backward. */
export async function scanPage(rt: Runtime, ctx: OperationContext, page: ScanPageRequest): Promise<ScanPage> {
  const { timelineId, direction, from, to } = page;
  const forward = direction === 'forward';
  // An empty range needs no request, and the service rejects a start beyond the end.
  if (from !== undefined && to !== undefined && (forward ? from >= to : from <= to)) return { rows: [] };
  const limit = Math.max(1, Math.min(Math.floor(page.limit), MAX_SCAN_ROWS));
  const sdk = rt.sdk;
  const start = from === undefined ? (forward ? sdk.INF_MIN : sdk.INF_MAX) : toSdkLong(sdk, from);
  const end = to === undefined ? (forward ? sdk.INF_MAX : sdk.INF_MIN) : toSdkLong(sdk, to);
  const response = await request(rt, ctx, () =>
    rt.client.getRange({
      tableName: ctx.table,
      direction: forward ? sdk.Direction.FORWARD : sdk.Direction.BACKWARD,
      inclusiveStartPrimaryKey: primaryKey(rt.columns, timelineId, start),
      exclusiveEndPrimaryKey: primaryKey(rt.columns, timelineId, end),
      limit,
      maxVersions: 1,
    }),
  );
  const rows: StoredRow[] = [];
  for (const sdkRow of response.rows ?? []) {
    const parsed = parseRow(sdkRow, rt.columns);
    if (parsed !== undefined && parsed.row.timelineId === timelineId) rows.push(parsed.row);
  }
  const next = continuation(response.nextStartPrimaryKey, rt.columns, timelineId);
  return next === undefined ? { rows } : { rows, next };
}

/** The seq where the next page of `timelineId` starts, from the service's `nextStartPrimaryKey`. */
export function continuation(cells: readonly SdkPrimaryKeyCell[] | null | undefined, columns: ResolvedColumns, timelineId: string): bigint | undefined {
  if (cells === undefined || cells === null || cells.length === 0) return undefined;
  const owner = cells.find((c) => c.name === columns.timelineId);
  if (owner !== undefined && owner.value !== timelineId) return undefined;
  return seqOfPrimaryKey(cells, columns);
}
