/**
 * Timeline reads: one row with GetRow, one page of a range with GetRange. On the wire transport
 * the requests are encoded and the answers decoded straight to rows (direct/); otherwise SDK
 * params are sent and the SDK's results converted (sdk-answers.ts).
 *
 * @packageDocumentation
 */
import type { ScanPage, ScanPageRequest, StoredRow } from '../../core/backend.js';
import { directTimelineCalls } from './direct/timeline-calls.js';
import { MAX_SCAN_ROWS } from './limits.js';
import { request } from './request.js';
import { parseRow } from './row-layout.js';
import type { OperationContext, Runtime } from './runtime.js';
import { pageOfSdk } from './sdk-answers.js';
import { getRowParams, rangeParams, type RangeQuery } from './timeline-requests.js';

/** Reads one entry; undefined when the row is absent or expired. */
export async function getRow(rt: Runtime, ctx: OperationContext, timelineId: string, seq: bigint): Promise<StoredRow | undefined> {
  const direct = directTimelineCalls(rt);
  let row: StoredRow | undefined;
  if (direct !== undefined) {
    row = await request(rt, ctx, () => direct.getRow(ctx.table, timelineId, seq));
  } else {
    const response = await request(rt, ctx, () => rt.client.getRow(getRowParams(rt.sdk, rt.columns, ctx.table, timelineId, seq)));
    row = parseRow(response.row, rt.columns)?.row;
  }
  return row !== undefined && row.timelineId === timelineId && row.seq === seq ? row : undefined;
}

/** Reads one page of a timeline, forward or backward. */
export async function scanPage(rt: Runtime, ctx: OperationContext, page: ScanPageRequest): Promise<ScanPage> {
  const { timelineId, direction, from, to } = page;
  const forward = direction === 'forward';
  // An empty range needs no request, and the service rejects a start beyond the end.
  if (from !== undefined && to !== undefined && (forward ? from >= to : from <= to)) return { rows: [] };
  const query: RangeQuery = {
    timelineId,
    forward,
    start: from ?? (forward ? 'min' : 'max'),
    end: to ?? (forward ? 'max' : 'min'),
    limit: Math.max(1, Math.min(Math.floor(page.limit), MAX_SCAN_ROWS)),
  };
  const direct = directTimelineCalls(rt);
  const { rows, next } =
    direct !== undefined
      ? await request(rt, ctx, () => direct.page(ctx.table, query))
      : pageOfSdk(await request(rt, ctx, () => rt.client.getRange(rangeParams(rt.sdk, rt.columns, ctx.table, query))), rt.columns, timelineId);
  return next === undefined ? { rows } : { rows, next };
}
