/**
 * The SDK's results turned into the backend's answers (answers.ts): the conversions the SDK
 * transport (and a client the caller gave) goes through, and the reference the direct decoders of
 * the wire transport are tested against.
 *
 * @packageDocumentation
 */
import type { StoredRow } from '../../core/backend.js';
import type { PageAnswer, RowOutcome, WritesPageAnswer } from './answers.js';
import { parseRow, seqOfPrimaryKey, type ParsedRow, type ResolvedColumns } from './row-layout.js';
import type { SdkBatchWriteRowResult, SdkPrimaryKeyCell, SdkRow } from './sdk-types.js';

/** The SDK's GetRange result, as far as the backend reads it. */
export interface SdkRangeResult {
  readonly rows?: readonly SdkRow[];
  readonly nextStartPrimaryKey?: readonly SdkPrimaryKeyCell[] | null;
}

/** The outcome of a PutRow that succeeded: the seq of the key it returned, if any. */
export function putOutcomeOfSdk(response: { readonly row?: SdkRow }, columns: ResolvedColumns): RowOutcome {
  return { ok: true, seq: seqOfPrimaryKey(response.row?.primaryKey, columns) };
}

/**
 * The outcome of one row of a BatchWriteRow result.
 * @throws {TypeError} when the returned key holds a seq that is not an integer (as `seqOfPrimaryKey`).
 */
export function batchOutcomeOfSdk(result: SdkBatchWriteRowResult, columns: ResolvedColumns): RowOutcome {
  if (result.isOk) return { ok: true, seq: seqOfPrimaryKey(result.primaryKey, columns) };
  return { ok: false, code: result.errorCode ?? 'UnknownError', message: result.errorMessage ?? '' };
}

/** The seq where the next page of `timelineId` starts, from the service's `nextStartPrimaryKey`. */
export function continuation(cells: readonly SdkPrimaryKeyCell[] | null | undefined, columns: ResolvedColumns, timelineId: string): bigint | undefined {
  if (cells === undefined || cells === null || cells.length === 0) return undefined;
  const owner = cells.find((c) => c.name === columns.timelineId);
  if (owner !== undefined && owner.value !== timelineId) return undefined;
  return seqOfPrimaryKey(cells, columns);
}

/** A page of `timelineId` from a GetRange result: its rows with a payload, and the next start. */
export function pageOfSdk(response: SdkRangeResult, columns: ResolvedColumns, timelineId: string): PageAnswer {
  const rows: StoredRow[] = [];
  for (const sdkRow of response.rows ?? []) {
    const parsed = parseRow(sdkRow, columns);
    if (parsed !== undefined && parsed.row.timelineId === timelineId) rows.push(parsed.row);
  }
  return { rows, next: continuation(response.nextStartPrimaryKey, columns, timelineId) };
}

/** A page read to settle ambiguous writes: every parsable row, payload or not, and how many rows came. */
export function writesPageOfSdk(response: SdkRangeResult, columns: ResolvedColumns, timelineId: string): WritesPageAnswer {
  const rows: ParsedRow[] = [];
  let scanned = 0;
  for (const sdkRow of response.rows ?? []) {
    scanned++;
    const parsed = parseRow(sdkRow, columns, { requirePayload: false });
    if (parsed !== undefined) rows.push(parsed);
  }
  return { rows, scanned, next: continuation(response.nextStartPrimaryKey, columns, timelineId) };
}
